// Issues a client VPN's certificates with openssl, exactly as the plan in rules/certificates.ts says
// (key size, subject, SANs, key usages, CA flag, validity), mirroring what @pulumi/tls (Go's crypto/x509) writes:
// critical basicConstraints and keyUsage, a subject key id on the CA, an authority key id on the leaves.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { allCertificates, CertificateSpec, ORGANIZATION, RSA_BITS, VpnCertificatePlan } from "../rules/certificates";
import { rsaKeyFile } from "./runFixtures";

const KEY_USAGE: Record<string, string> = {
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    digital_signature: "digitalSignature",
    key_encipherment: "keyEncipherment",
};
const EXTENDED_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

export interface IssuedCertificate {
    readonly spec: CertificateSpec;
    readonly certFile: string;
    readonly keyFile: string;
    readonly certPem: string;
    readonly keyPem: string;
}

export interface IssuedChain {
    readonly dir: string;
    readonly ca: IssuedCertificate;
    readonly byResource: Record<string, IssuedCertificate>;
    cleanup(): void;
}

/** The x509v3 extension section for a spec. Throws on a usage this mirror does not know, so none is dropped. */
export function extensionsFor(spec: CertificateSpec): string {
    const unknown = spec.allowedUses.filter((u) => !(u in KEY_USAGE) && !(u in EXTENDED_KEY_USAGE));
    if (unknown.length > 0) throw new Error(`no openssl equivalent for ${unknown.join(", ")}`);
    const ku = spec.allowedUses.filter((u) => u in KEY_USAGE).map((u) => KEY_USAGE[u]);
    const eku = spec.allowedUses.filter((u) => u in EXTENDED_KEY_USAGE).map((u) => EXTENDED_KEY_USAGE[u]);
    return [
        `basicConstraints = critical, CA:${spec.isCa ? "TRUE" : "FALSE"}`,
        ku.length > 0 ? `keyUsage = critical, ${ku.join(", ")}` : "",
        eku.length > 0 ? `extendedKeyUsage = ${eku.join(", ")}` : "",
        spec.dnsNames.length > 0 ? `subjectAltName = ${spec.dnsNames.map((n) => `DNS:${n}`).join(", ")}` : "",
        spec.isCa ? "subjectKeyIdentifier = hash" : "subjectKeyIdentifier = none\nauthorityKeyIdentifier = keyid",
    ]
        .filter(Boolean)
        .join("\n");
}

function days(hours: number): number {
    return Math.max(1, Math.floor(hours / 24));
}

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

let chains = 0;

/**
 * Issues every certificate of `plan`. `caValidityHours` overrides the CA's lifetime (to build a broken chain).
 * Keys come from the run's pool (tests/runFixtures.ts): chains issued with the same `keys` name share their keys
 * (a CA with a CA, a server with a server...), which saves generating RSA keys; without it a chain gets keys of its
 * own. `caKeys` names the CA's key apart: a chain from another CA needs another CA key, not other leaf keys.
 */
export function issueChain(plan: VpnCertificatePlan, overrides: { caValidityHours?: number; keys?: string; caKeys?: string } = {}): IssuedChain {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-vpn-"));
    const keySet = overrides.keys ?? `chain-${process.pid}-${++chains}`;
    const key = (spec: CertificateSpec, file: string) =>
        fs.copyFileSync(rsaKeyFile(`${spec.isCa && overrides.caKeys !== undefined ? overrides.caKeys : keySet}-${spec.resourceSuffix}`, RSA_BITS), file);
    const files = (spec: CertificateSpec) => ({ certFile: path.join(dir, `${spec.resourceSuffix}.pem`), keyFile: path.join(dir, `${spec.resourceSuffix}.key`) });
    const read = (spec: CertificateSpec): IssuedCertificate => {
        const f = files(spec);
        return { spec, ...f, certPem: fs.readFileSync(f.certFile, "utf8"), keyPem: fs.readFileSync(f.keyFile, "utf8") };
    };
    const subject = (spec: CertificateSpec) => `/CN=${spec.commonName}/O=${ORGANIZATION}`;

    const caSpec = plan.ca;
    const caFiles = files(caSpec);
    fs.writeFileSync(path.join(dir, "ca.cnf"), `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${extensionsFor(caSpec)}\n`);
    key(caSpec, caFiles.keyFile);
    openssl(
        ["req", "-x509", "-new", "-key", caFiles.keyFile, "-out", caFiles.certFile, "-subj", subject(caSpec),
            "-days", String(days(overrides.caValidityHours ?? caSpec.validityHours)), "-config", "ca.cnf", "-extensions", "v3"],
        dir,
    );
    const byResource: Record<string, IssuedCertificate> = { [caSpec.resourceSuffix]: read(caSpec) };
    for (const spec of allCertificates(plan).filter((s) => !s.isCa)) {
        const f = files(spec);
        const csr = path.join(dir, `${spec.resourceSuffix}.csr`);
        const ext = path.join(dir, `${spec.resourceSuffix}.ext`);
        fs.writeFileSync(ext, `${extensionsFor(spec)}\n`);
        key(spec, f.keyFile);
        openssl(["req", "-new", "-key", f.keyFile, "-out", csr, "-subj", subject(spec)], dir);
        openssl(
            ["x509", "-req", "-in", csr, "-CA", caFiles.certFile, "-CAkey", caFiles.keyFile, "-set_serial", String(Object.keys(byResource).length + 1),
                "-days", String(days(spec.validityHours)), "-extfile", ext, "-out", f.certFile],
            dir,
        );
        byResource[spec.resourceSuffix] = read(spec);
    }
    return { dir, ca: byResource[caSpec.resourceSuffix], byResource, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
