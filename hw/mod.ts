/**
 * The hardware layer: physical memory, buses, the PC interrupt hardware (8259 pair, IMCR, local
 * APIC, IOAPIC), the 8254 PIT, the debug console port, firmware tables, the built-in boards and
 * the machine that composes them.
 *
 * Build a board with a CPU model of your choice (the x86 models live in `arch/x86/mod.ts`), run
 * it and read its state the way scenario expectations do:
 *
 * ```ts
 * import { boards, buildMachine } from "./mod.ts";
 * import { x86CpuFactory } from "../arch/x86/mod.ts";
 *
 * const machine = buildMachine({ board: "pc-ioapic" }, { cpu: x86CpuFactory("pentium4-xeon") });
 * machine.cpus.length; // 2 (the board's default count)
 * boards["pc-ioapic"].picOutput; // "ioapic"
 * const state = machine.snapshot();
 * Object.keys(state); // ["machine", "cpu", "pic", "pit", "debug", "memory_map", "lapic", "ioapic"]
 * ```
 *
 * Devices can also be used on their own, on an {@linkcode IoBus} or {@linkcode MmioBus}:
 *
 * ```ts
 * import { I8259Pair, IoBus, Trace } from "./mod.ts";
 *
 * const trace = new Trace();
 * const pic = new I8259Pair({ trace });
 * const io = new IoBus({ trace });
 * io.register(0x20, 2, pic);
 * io.register(0xa0, 2, pic);
 * io.write(0x21, 1, 0xfe);
 * ```
 *
 * @module
 */

export * from "./fields.ts";
export * from "./trace.ts";
export * from "./clock.ts";
export * from "./memory.ts";
export * from "./io_bus.ts";
export * from "./mmio_bus.ts";
export type * from "./cpu.ts";

export {
  boardCpuModel,
  BoardError,
  boardProfile,
  boards,
  buildMachine,
  defaultE820,
  IOAPIC_BASE,
  LAPIC_BASE,
  MAX_CPUS,
  planMachine,
} from "./platforms.ts";
export type {
  BoardProfile,
  BuildMachineOptions,
  MachineConfig,
  MemoryRangeConfig,
  ResolvedCpu,
} from "./platforms.ts";
export { Machine, MachineError } from "./machine.ts";
export type {
  MachinePlan,
  PicOutput,
  RunOptions,
  RunReason,
  RunResult,
  RunUntil,
} from "./machine.ts";
export {
  decodeE820Table,
  E820_ENTRY_SIZE,
  E820_TYPE,
  e820ReserveResources,
  e820ResourceName,
  encodeE820Table,
  FOUR_GIB,
  MemoryMap,
  MemoryMapError,
  ResourceConflictError,
  ResourceTree,
} from "./memory_map.ts";
export type { E820Entry, E820ReserveOptions, E820TypeName, Resource } from "./memory_map.ts";

export {
  ELCR_FIELDS,
  ELCR_MASTER,
  ELCR_SLAVE,
  I8259Pair,
  ICW1_FIELDS,
  ICW4_FIELDS,
  IR_FIELDS,
  PIC_MASTER_COMMAND,
  PIC_MASTER_DATA,
  PIC_SLAVE_COMMAND,
  PIC_SLAVE_DATA,
} from "./i8259.ts";
export type { I8259InitState, I8259PairOptions } from "./i8259.ts";
export { Imcr, IMCR_ADDRESS_PORT, IMCR_APIC_MODE, IMCR_DATA_PORT, IMCR_SELECT } from "./imcr.ts";
export type { ImcrOptions } from "./imcr.ts";
export {
  Pit8254,
  PIT_CONTROL,
  PIT_COUNTER0,
  PIT_COUNTER1,
  PIT_COUNTER2,
  PIT_INPUT_HZ,
  pitTicksAt,
  pitTickTime,
  PORT_B,
} from "./pit.ts";
export type { Pit8254Options, PitAccess } from "./pit.ts";
export { DEBUG_CONSOLE_PORT, DEBUG_EXIT_PORT, DebugPort } from "./debug_port.ts";
export type { DebugPortOptions } from "./debug_port.ts";
export {
  APIC_BASE_FIELDS,
  APIC_DEFAULT_BASE,
  DFR_FIELDS,
  DIVIDE_FIELDS,
  ESR_BITS,
  ESR_FIELDS,
  ICR_FIELDS,
  LAPIC_REGISTERS,
  LDR_FIELDS,
  LocalApic,
  LocalApicBank,
  LVT_FIELDS,
  SVR_FIELDS,
} from "./lapic.ts";
export type { LapicCpuPins, LocalApicOptions } from "./lapic.ts";
export {
  IoApic,
  IOAPIC_ID_FIELDS,
  IOAPIC_MMIO,
  IOAPIC_REGISTERS,
  IOAPIC_VERSION_82093AA,
  REDIRECTION_FIELDS,
} from "./ioapic.ts";
export type { IoApicOptions } from "./ioapic.ts";
export { ApicBus } from "./apic_bus.ts";
export type {
  ApicBusIoApic,
  ApicBusLocalApic,
  ApicDeliveryMode,
  ApicMessage,
  ApicShorthand,
} from "./apic_bus.ts";
export {
  BIOS_ROM_BASE,
  BOOTSECTOR_ADDR,
  decodeMpFloatingPointer,
  E820_COPY_ADDR,
  encodeMpTables,
  findMpTables,
  MP_CONFIG_ADDR,
  MP_FLOATING_ADDR,
  mpConfigSize,
  MpTableError,
  parseMpConfig,
  readE820Copy,
  readMpTables,
  writeMpTables,
} from "./firmware.ts";
export type {
  MpConfig,
  MpFloatingPointer,
  MpFloatingPointerInvalid,
  MpInterruptFlags,
  MpInterruptType,
  MpIoInterrupt,
  MpLocalInterrupt,
  MpProcessor,
  MpTables,
} from "./firmware.ts";
