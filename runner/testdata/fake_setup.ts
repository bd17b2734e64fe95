// Registers the test-double machine provider (for runner CLI tests with --jobs workers).
import { registerMachineProvider } from "../steps.ts";
import { fakeProvider } from "./fake_machine.ts";

registerMachineProvider(fakeProvider);
