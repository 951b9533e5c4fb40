import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderOvpnProfile, VpnTransport } from "../../components/ovpn";
import { vpnCertificatePlan } from "../../rules/certificates";
import { needTool } from "../localTools";
import { IssuedChain, issueChain } from "../opensslChain";

const ENDPOINT = "*.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com";

/** A free local port for `transport` (bound to 127.0.0.1, then released). */
async function freePort(transport: VpnTransport): Promise<number> {
    if (transport === "tcp") {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as net.AddressInfo;
        await new Promise((resolve) => server.close(resolve));
        return port;
    }
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    return port;
}

interface Watched {
    readonly child: ChildProcess;
    output(): string;
    /** Resolves true when `pattern` shows up in the output, false after `ms` or when the process ends first. */
    waitFor(pattern: RegExp, ms: number): Promise<boolean>;
}

function watch(args: string[], cwd: string): Watched {
    const child = spawn("openvpn", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const listeners: (() => void)[] = [];
    const onData = (d: Buffer) => {
        text += d.toString();
        listeners.forEach((l) => l());
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    return {
        child,
        output: () => text,
        waitFor: (pattern, ms) =>
            new Promise((resolve) => {
                const done = (ok: boolean) => {
                    clearTimeout(timer);
                    child.off("exit", onExit);
                    resolve(ok);
                };
                const check = () => pattern.test(text) && done(true);
                const onExit = () => done(pattern.test(text));
                const timer = setTimeout(() => done(false), ms);
                listeners.push(check);
                child.on("exit", onExit);
                check();
            }),
    };
}

function stop(w: Watched | undefined): void {
    if (w && w.child.exitCode === null && w.child.pid) process.kill(w.child.pid, "SIGTERM");
}

describe(".ovpn profile, used for real by OpenVPN against a local stand-in for the endpoint", function () {
    this.timeout(60_000);
    // The endpoint's part is played by an OpenVPN server on 127.0.0.1 with the plan's server certificate, requiring
    // client certificates from the same CA with clientAuth (as Client VPN does) and offering AES-256-GCM.
    // `dev null` on both sides: the TLS handshake, certificate checks and data-channel negotiation all run, no
    // interface is created. The profile is used as rendered except for its `remote` line (no network here).
    let chain: IssuedChain;
    let running: Watched[] = [];

    before(function () {
        needTool(this, "openssl");
        needTool(this, "openvpn");
        chain = issueChain(vpnCertificatePlan("vpn.example.org", ["reading-room-1"], 825), { keys: "vpn" });
    });
    afterEach(() => {
        running.forEach(stop);
        running = [];
    });
    after(() => chain?.cleanup());

    function profileFor(transport: VpnTransport, client: { certPem: string; keyPem: string }): string {
        return renderOvpnProfile({ endpointDnsName: ENDPOINT, label: "k3x9q2mz", transport, port: 443, caPem: chain.ca.certPem, ...client });
    }

    async function connect(transport: VpnTransport, profile: string) {
        const port = await freePort(transport);
        const server = watch(
            ["--tls-server", "--proto", transport === "udp" ? "udp4" : "tcp4-server", "--local", "127.0.0.1", "--port", String(port), "--dev", "null",
                "--ca", chain.ca.certFile, "--cert", chain.byResource.server.certFile, "--key", chain.byResource.server.keyFile, "--dh", "none",
                "--verify-client-cert", "require", "--remote-cert-tls", "client", "--data-ciphers", "AES-256-GCM", "--verb", "3"],
            chain.dir,
        );
        running.push(server);
        expect(await server.waitFor(/UDPv4 link local|Listening for incoming TCP connection/, 10_000), server.output()).to.equal(true);
        const local = profile.replace(/^remote \S+ \d+$/m, `remote 127.0.0.1 ${port}`);
        expect(local).to.not.equal(profile);
        const file = path.join(chain.dir, `client-${transport}-${port}.ovpn`);
        fs.writeFileSync(file, local, { mode: 0o600 });
        const client = watch(["--config", file, "--dev", "null", "--ifconfig-noexec", "--route-noexec", "--connect-retry-max", "1"], chain.dir);
        running.push(client);
        return { server, client };
    }

    for (const transport of ["udp", "tcp"] as const) {
        it(`a rendered ${transport} profile completes mutual TLS with the server certificate and negotiates AES-256-GCM`, async () => {
            const issued = chain.byResource["client-reading-room-1"];
            const { server, client } = await connect(transport, profileFor(transport, issued));
            expect(await client.waitFor(/Initialization Sequence Completed/, 20_000), client.output()).to.equal(true);
            expect(await client.waitFor(/Data Channel: cipher 'AES-256-GCM'/, 5_000), client.output()).to.equal(true);
            expect(client.output()).to.match(/VERIFY EKU OK/).and.match(/VERIFY OK: depth=0, CN=server\.vpn\.example\.org/);
            expect(await server.waitFor(/\[reading-room-1\.vpn\.example\.org\] Peer Connection Initiated/, 5_000), server.output()).to.equal(true);
        });
    }

    it("a profile carrying a certificate without clientAuth is refused by the server", async () => {
        const { server, client } = await connect("udp", profileFor("udp", chain.byResource.server));
        expect(await server.waitFor(/VERIFY EKU ERROR|TLS Error: TLS handshake failed|TLS_ERROR/, 20_000), server.output()).to.equal(true);
        expect(client.output()).to.not.match(/Initialization Sequence Completed/);
    });
});
