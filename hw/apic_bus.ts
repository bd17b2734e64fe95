/**
 * The APIC interconnect: the 3-wire APIC bus of Pentium/P6 systems, or the system bus carrying
 * interrupt messages on Pentium 4 / Xeon / K8. It routes interrupt messages (from I/O APIC
 * redirection entries and from local APIC ICR writes) to the local APICs they address, and
 * broadcasts local APIC EOIs for level-triggered vectors to every I/O APIC [SDM3 §"Handling
 * Interrupts"], [82093AA-DS].
 *
 * Destination decoding is done by each local APIC ({@linkcode ApicBusLocalApic.matchesDestination}),
 * since it depends on its ID width, LDR and DFR. The bus does the parts that involve several
 * APICs: shorthands, and lowest-priority arbitration (lowest arbitration priority wins; a focus
 * processor wins outright on P6/Pentium when focus checking is enabled; ties go to the lowest APIC
 * ID, then the earliest registered APIC — real hardware breaks ties by rotating arbitration IDs,
 * which software cannot observe deterministically).
 *
 * Delivery is synchronous: {@linkcode ApicBus.send} returns how many APICs accepted the message.
 *
 * @module
 */

import { formatHex } from "./fields.ts";
import type { Trace } from "./trace.ts";

/** Delivery mode of an APIC message. */
export type ApicDeliveryMode =
  | "fixed"
  | "lowest"
  | "smi"
  | "nmi"
  | "init"
  | "startup"
  | "extint";

/** Destination shorthand of an IPI (ICR bits 19:18). */
export type ApicShorthand = "self" | "all" | "all-but-self";

/**
 * One interrupt message on the APIC bus.
 *
 * @example
 * ```ts
 * import type { ApicMessage } from "./apic_bus.ts";
 * const sipi: ApicMessage = {
 *   vector: 0x9a, delivery: "startup", destMode: "physical", dest: 1, trigger: "edge", level: true,
 * };
 * ```
 */
export interface ApicMessage {
  /** Vector (SIPI: start page; ignored for NMI/SMI/INIT/ExtINT). */
  readonly vector: number;
  /** Delivery mode. */
  readonly delivery: ApicDeliveryMode;
  /** Destination mode: physical APIC ID or logical (MDA matched against LDR/DFR). */
  readonly destMode: "physical" | "logical";
  /** Destination field (8 bits). */
  readonly dest: number;
  /** Trigger mode; level-triggered fixed interrupts set the receiver's TMR bit. */
  readonly trigger: "edge" | "level";
  /** Level: false only for an INIT level de-assert message. */
  readonly level: boolean;
  /** IPI destination shorthand; overrides `destMode`/`dest`. */
  readonly shorthand?: ApicShorthand;
  /** Bus index of the sending local APIC (needed for shorthands); absent for I/O APICs. */
  readonly source?: number;
}

/** What the bus needs from a local APIC (implemented by `LocalApic` in lapic.ts). */
export interface ApicBusLocalApic {
  /** Current APIC ID (ID register). */
  readonly apicId: number;
  /** False while globally disabled (IA32_APIC_BASE.EN = 0): such an APIC is not on the bus. */
  readonly onBus: boolean;
  /** True when software-enabled (SVR bit 8): only these take part in lowest-priority arbitration. */
  readonly softwareEnabled: boolean;
  /** Arbitration priority for lowest-priority delivery (APR on P6/Pentium, TPR on xAPIC). */
  readonly arbitrationPriority: number;
  /** True when focus-processor checking applies (P6/Pentium with SVR bit 9 clear). */
  readonly focusChecking: boolean;
  /** True when `vector` is pending (IRR) or in service (ISR) here: the focus processor. */
  isFocus(vector: number): boolean;
  /** True when a non-shorthand message with this destination addresses this APIC. */
  matchesDestination(destMode: "physical" | "logical", dest: number): boolean;
  /** Receive a message; returns true when accepted. */
  accept(message: ApicMessage): boolean;
}

/** What the bus needs from an I/O APIC (implemented by `IoApic` in ioapic.ts). */
export interface ApicBusIoApic {
  /** EOI message for `vector`: clear Remote IRR of matching level-triggered entries. */
  eoi(vector: number): void;
  /** Retry level interrupts whose delivery is pending because no local APIC accepted them. */
  retryPending(): void;
}

/**
 * The APIC interconnect between local APICs and I/O APICs.
 *
 * @example
 * ```ts
 * import { ApicBus } from "./apic_bus.ts";
 * const bus = new ApicBus();
 * // new LocalApic({ bus, ... }) registers itself; new IoApic({ bus, ... }) too.
 * bus.send({ vector: 0x30, delivery: "fixed", destMode: "physical", dest: 0, trigger: "edge", level: true });
 * ```
 */
export class ApicBus {
  readonly #locals: ApicBusLocalApic[] = [];
  readonly #ioapics: ApicBusIoApic[] = [];
  readonly #trace: Trace | undefined;

  /** Create an empty bus; messages are traced (category `irq`) when a trace is given. */
  constructor(options: { trace?: Trace } = {}) {
    this.#trace = options.trace;
  }

  /** Attach a local APIC (idempotent); returns its bus index, used as `ApicMessage.source`. */
  addLocalApic(lapic: ApicBusLocalApic): number {
    const i = this.#locals.indexOf(lapic);
    if (i >= 0) return i;
    this.#locals.push(lapic);
    return this.#locals.length - 1;
  }

  /** Attach an I/O APIC (idempotent) so it receives EOI broadcasts. */
  addIoApic(ioapic: ApicBusIoApic): void {
    if (!this.#ioapics.includes(ioapic)) this.#ioapics.push(ioapic);
  }

  /** Bus index of a local APIC, or -1 when it is not attached. */
  indexOf(lapic: ApicBusLocalApic): number {
    return this.#locals.indexOf(lapic);
  }

  /** The attached local APICs in bus order. */
  get localApics(): readonly ApicBusLocalApic[] {
    return this.#locals;
  }

  /** The local APICs a message addresses (before lowest-priority arbitration). */
  targets(message: ApicMessage): ApicBusLocalApic[] {
    const out: ApicBusLocalApic[] = [];
    const src = message.source ?? -1;
    for (let i = 0; i < this.#locals.length; i++) {
      const l = this.#locals[i];
      if (!l.onBus) continue;
      switch (message.shorthand) {
        case "self":
          if (i === src) out.push(l);
          break;
        case "all":
          out.push(l);
          break;
        case "all-but-self":
          if (i !== src) out.push(l);
          break;
        default:
          if (l.matchesDestination(message.destMode, message.dest)) out.push(l);
      }
    }
    return out;
  }

  /**
   * Deliver a message. Lowest-priority messages go to one APIC chosen by arbitration among the
   * addressed, software-enabled APICs. Returns the number of APICs that accepted it.
   */
  send(message: ApicMessage): number {
    let targets = this.targets(message);
    if (message.delivery === "lowest") {
      const winner = this.#arbitrate(targets, message.vector);
      targets = winner === undefined ? [] : [winner];
    }
    let accepted = 0;
    const names: string[] = [];
    for (const t of targets) {
      const ok = t.accept(message);
      if (ok) accepted++;
      names.push(`${formatHex(t.apicId, 8)}${ok ? "" : "(rejected)"}`);
    }
    this.#trace?.emit(
      "irq",
      `apic bus: ${message.delivery} vector=${formatHex(message.vector, 8)} ${message.trigger}${
        message.level ? "" : " deassert"
      } ${
        message.shorthand !== undefined
          ? `shorthand=${message.shorthand}`
          : `${message.destMode} dest=${formatHex(message.dest, 8)}`
      } -> [${names.join(", ")}]`,
    );
    return accepted;
  }

  #arbitrate(candidates: ApicBusLocalApic[], vector: number): ApicBusLocalApic | undefined {
    let best: ApicBusLocalApic | undefined;
    for (const c of candidates) {
      if (!c.softwareEnabled) continue;
      if (c.focusChecking && c.isFocus(vector)) return c;
      if (
        best === undefined || c.arbitrationPriority < best.arbitrationPriority ||
        (c.arbitrationPriority === best.arbitrationPriority && c.apicId < best.apicId)
      ) best = c;
    }
    return best;
  }

  /** Broadcast an EOI message for `vector` to every I/O APIC. */
  broadcastEoi(vector: number): void {
    this.#trace?.emit("irq", `apic bus: EOI vector=${formatHex(vector, 8)} to I/O APICs`);
    for (const io of this.#ioapics) io.eoi(vector);
  }

  /** Ask every I/O APIC to retry held level interrupts (a local APIC became able to accept). */
  retryPending(): void {
    for (const io of this.#ioapics) io.retryPending();
  }
}
