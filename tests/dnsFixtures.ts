// What the DnsFrontDoor specs share (tests/dnsFrontDoor.spec.ts and tests/system/dnsFrontDoor.spec.ts).
import { expect } from "chai";
import { validateStackConfig } from "../stacks/config";
import { withConfig } from "./harness";

export const ZONE = "example.org";
export const FQDN = "pacs.example.org";

/** A dns stack: `dns` fields merge over zone example.org, record pacs; other top-level keys replace. */
export function dnsConfig(dns: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: ZONE, recordName: "pacs", ...dns } }, ...overrides });
}

export function problemsOf(raw: Record<string, unknown>): string[] {
    return validateStackConfig(raw).problems;
}

/** Exactly one problem, for `key`, matching every pattern. */
export function expectOneProblem(raw: Record<string, unknown>, key: string, ...patterns: RegExp[]) {
    const problems = problemsOf(raw);
    expect(problems, JSON.stringify(problems)).to.have.length(1);
    expect(problems[0].startsWith(`${key}:`), problems[0]).to.equal(true);
    for (const p of patterns) expect(problems[0]).to.match(p);
}

export function withCertificate(pair: { cert: string; key: string }, dns: Record<string, unknown> = {}) {
    return dnsConfig(dns, { "orthweb:tlsCertificatePem": pair.cert, "orthweb:tlsPrivateKeyPem": pair.key });
}
