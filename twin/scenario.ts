// What a twin scenario is: a name, a run against a fresh TwinPair, and what it measured.
import { TwinPair } from "./pair";

export interface Measured {
    /** The scenario's summary line(s), `twin <scenario>: ...`, in the exact form its issue gives. */
    readonly summary: string[];
    /** Why it fails; empty when it passes. */
    readonly reasons: string[];
}

export interface ScenarioContext {
    /** A scratch directory of the scenario's own (deleted afterwards). */
    readonly dir: string;
    /** Registers what stops the scenario's clients when the twin is interrupted or runs out of time. */
    onAbort(stop: () => void): void;
}

export interface Scenario {
    /** The name on its summary line and on the command line: `npm run test:twin -- <name>`. */
    readonly name: string;
    /** One line: what it breaks and what it proves. */
    readonly description: string;
    /** Bound on the scenario's run after setup; past it the twin stops everything and fails. */
    readonly deadlineSeconds: number;
    /** Config the prod stack is built with for this scenario's pair (full keys, maps merged key by key). @default none */
    readonly configOverrides?: Record<string, unknown>;
    run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured>;
}
