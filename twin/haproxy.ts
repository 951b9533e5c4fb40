// haproxy.cfg for HAProxy standing in for the network load balancer: one listener per target group on the same
// port, both instances as targets (cross-zone), and the target group's health check copied setting for setting.
// Pure; tests/twin.spec.ts checks the mapping and `haproxy -c` accepts the result.
import { HealthCheckSpec, matcherCodes, TargetGroupSpec } from "./targetGroups";

export interface HaproxyTarget {
    readonly name: string;
    readonly address: string;
}

export interface HaproxyParams {
    /** The front door's address (the load balancer's). */
    readonly frontDoorAddress: string;
    readonly targets: readonly HaproxyTarget[];
    readonly targetGroups: readonly TargetGroupSpec[];
    /** Where the twin reads server states (CSV); not part of the load balancer. */
    readonly stats: { readonly address: string; readonly port: number };
    /** Certificate + key (one PEM) for TLS target groups, which the NLB terminates with its own certificate. */
    readonly tlsListenerPemPath?: string;
    /** The NLB's idle timeout for TCP flows (350 s unless the listener sets another). */
    readonly idleTimeoutSeconds?: number;
    /** A runtime API socket (admin level): what stands in for DeregisterTargets/RegisterTargets. @default none */
    readonly adminSocketPath?: string;
}

/** A compact regex for a set of status codes: whole hundreds as `2[0-9][0-9]`, the rest listed. */
export function statusRegex(codes: readonly number[]): string {
    const set = new Set(codes);
    const parts: string[] = [];
    for (let hundred = 1; hundred <= 5; hundred++) {
        const all = Array.from({ length: 100 }, (_, i) => hundred * 100 + i);
        if (all.every((c) => set.has(c))) parts.push(`${hundred}[0-9][0-9]`);
        else parts.push(...all.filter((c) => set.has(c)).map(String));
    }
    return `^(${parts.join("|")})$`;
}

function checkLines(hc: HealthCheckSpec): string[] {
    const lines = [`    timeout check ${hc.timeoutSeconds}s`];
    if (hc.protocol === "HTTP" || hc.protocol === "HTTPS") {
        lines.push(`    option httpchk GET ${hc.path}`);
        lines.push(`    http-check expect rstatus ${statusRegex(matcherCodes(hc.matcher) ?? [])}`);
    }
    return lines;
}

function serverOptions(tg: TargetGroupSpec): string {
    const hc = tg.healthCheck;
    const opts = [
        // Equal weights at the maximum: random placement walks a consistent-hash ring whose split between two
        // servers is uneven at the default weight (measured 42/58 over 2000 connections; 50/50 at 256).
        "weight 256",
        "check",
        // The NLB checks at the same interval whatever the target's state.
        `inter ${hc.intervalSeconds}s fastinter ${hc.intervalSeconds}s downinter ${hc.intervalSeconds}s`,
        `rise ${hc.healthyThreshold} fall ${hc.unhealthyThreshold}`,
    ];
    if (hc.port !== "traffic-port") opts.push(`port ${hc.port}`);
    // NLB HTTPS checks do not validate certificates and speak TLS 1.2 at most.
    if (hc.protocol === "HTTPS") opts.push("check-ssl verify none ssl-max-ver TLSv1.2");
    // An NLB that terminates an unhealthy target's connections; without it they stay (the twin's scenarios are
    // far shorter than any draining interval the program sets).
    if (tg.unhealthyConnections.terminate) opts.push("on-marked-down shutdown-sessions");
    // A TLS target group: the NLB re-encrypts to the target without validating its certificate.
    if (tg.protocol === "TLS") opts.push("ssl verify none");
    return opts.join(" ");
}

export function renderHaproxyConfig(p: HaproxyParams): string {
    if (p.targets.length === 0) throw new Error("renderHaproxyConfig: no targets");
    const needsCert = p.targetGroups.some((tg) => tg.protocol === "TLS");
    if (needsCert && !p.tlsListenerPemPath) throw new Error("renderHaproxyConfig: a TLS target group needs tlsListenerPemPath (the listener's certificate)");
    const idle = p.idleTimeoutSeconds ?? 350;
    const out = [
        "# Rendered by the orthweb local twin: HAProxy standing in for the network load balancer.",
        "# One listener per target group (same port), every instance a target (cross-zone), the program's health checks.",
        "global",
        "    log stdout format raw local0",
        "    maxconn 4096",
        ...(p.adminSocketPath ? [`    stats socket ${p.adminSocketPath} mode 600 level admin`] : []),
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    option log-health-checks",
        "    timeout connect 5s",
        `    timeout client ${idle}s`,
        `    timeout server ${idle}s`,
        "",
        "listen twin-stats",
        `    bind ${p.stats.address}:${p.stats.port}`,
        "    mode http",
        "    option httplog",
        "    stats enable",
        "    stats uri /stats",
        "",
    ];
    for (const tg of p.targetGroups) {
        const tls = tg.protocol === "TLS" ? ` ssl crt ${p.tlsListenerPemPath}` : "";
        out.push(
            `frontend ${tg.name}`,
            `    bind ${p.frontDoorAddress}:${tg.port}${tls}`,
            `    default_backend ${tg.name}`,
            "",
            `backend ${tg.name}`,
            // The NLB hashes each new flow (its source port included): a random target per connection. Round robin
            // would not do: one client's retries can alternate in step with it and always land on the dead target.
            "    balance random(1)",
            ...checkLines(tg.healthCheck),
            ...p.targets.map((t) => `    server ${t.name} ${t.address}:${tg.port} ${serverOptions(tg)}`),
            "",
        );
    }
    return out.join("\n");
}
