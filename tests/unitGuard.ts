// The unit suite's guard: a spec outside tests/system/ may not start a program or wait for a timer of more than
// UNIT_TIMER_LIMIT_MS. Such a spec belongs in the system suite (`npm run test:system`), where real tools and real
// time are expected. Loaded by tests/rootHooks.ts in every mocha worker; the main process (which forks the workers)
// is never patched.
import * as path from "path";
import { promisify } from "util";
// The modules themselves, not `import * as` copies: other modules must see the patched functions.
import childProcess = require("child_process");
import timersPromises = require("timers/promises");

/** A timer longer than this that really fires is a wait the unit suite may not make. */
export const UNIT_TIMER_LIMIT_MS = 100;

const SYSTEM_DIR = `${path.sep}tests${path.sep}system${path.sep}`;

/** Whether a spec file is held to the unit suite's rules (every spec outside tests/system/). */
export function isUnitSpec(file: string | undefined): boolean {
    return file !== undefined && !file.includes(SYSTEM_DIR);
}

const SPAWNERS = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;

export class UnitGuard {
    /** The spec file running now, and the test (or hook) within it. */
    private file: string | undefined;
    private where = "";
    private installed = false;

    /** Names what runs from now on (a root hook calls this before each file and each test). */
    enter(file: string | undefined, where: string): void {
        this.file = file;
        this.where = where;
    }

    /** The error that fails the test: it names the file, the test and what it did. */
    private refusal(what: string): Error {
        return new Error(`${path.relative(process.cwd(), this.file ?? "?")}: ${this.where}: ${what}; the unit suite may not, ` +
            `so move the spec (or the part that does) to tests/system/ (npm run test:system)`);
    }

    install(): void {
        if (this.installed) return;
        this.installed = true;
        const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
        for (const name of SPAWNERS) {
            const real = cp[name];
            cp[name] = (...args: unknown[]) => {
                if (isUnitSpec(this.file)) throw this.refusal(`started a program (child_process.${name} ${JSON.stringify(args[0])})`);
                return real(...args);
            };
        }
        const realSetTimeout = global.setTimeout;
        const guard = this;
        const guarded = function (this: unknown, callback: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) {
            const delay = Number(ms) || 0;
            if (delay <= UNIT_TIMER_LIMIT_MS || typeof callback !== "function" || !isUnitSpec(guard.file)) {
                return realSetTimeout(callback, ms, ...rest);
            }
            // Refused when it fires (a long timer cleared in time, a timeout guarding an operation, made no one wait), by
            // an uncaught error in place of the callback: mocha fails the test that is running and goes on.
            const where = guard.where;
            return realSetTimeout(() => {
                guard.where = where;
                throw guard.refusal(`waited for a ${delay} ms timer`);
            }, ms);
        };
        Object.assign(guarded, realSetTimeout);
        // util.promisify(setTimeout) keeps working (through timers/promises, guarded below).
        Object.defineProperty(guarded, promisify.custom, { value: (ms?: number, ...rest: unknown[]) => timersPromises.setTimeout(ms, ...rest) });
        global.setTimeout = guarded as typeof setTimeout;
        const realSleep = timersPromises.setTimeout;
        (timersPromises as { setTimeout: typeof realSleep }).setTimeout = ((ms?: number, ...rest: unknown[]) => {
            const delay = Number(ms) || 0;
            if (delay > UNIT_TIMER_LIMIT_MS && isUnitSpec(this.file)) return Promise.reject(this.refusal(`waited for a ${delay} ms timer (timers/promises)`));
            return (realSleep as (...a: unknown[]) => Promise<unknown>)(ms, ...rest);
        }) as typeof realSleep;
    }
}
