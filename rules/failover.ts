// Worst-case failover estimates: how long after an instance fails until clients are served by the other one.
// Pure; used by the stack outputs, the offline plan and the local twin (which measures the real thing).

/** A front door's failover estimate, as the stack output `failover` carries it. */
export interface FailoverSummary {
    /** Worst case until clients reach the other instance. */
    readonly worstCaseSeconds: number;
    /** How the figure is made up. */
    readonly breakdown: string;
    /** What the figure leaves out. */
    readonly note: string;
}

export interface LoadBalancerHealthCheck {
    readonly intervalSeconds: number;
    readonly unhealthyThreshold: number;
}

/** A load balancer stops routing to a target after `unhealthyThreshold` consecutive failed checks. */
export function loadBalancerFailoverSeconds(hc: LoadBalancerHealthCheck): number {
    return hc.intervalSeconds * hc.unhealthyThreshold;
}

export interface DnsHealthCheck {
    readonly intervalSeconds: number;
    readonly failureThreshold: number;
    readonly ttlSeconds: number;
}

/**
 * Route 53 marks an endpoint unhealthy after `failureThreshold` failed checks; answers change within about one
 * more interval; resolvers keep the old answer for up to the TTL. Client-side caching comes on top (DICOM devices
 * often keep an address until restarted).
 */
export function dnsFailoverSeconds(hc: DnsHealthCheck): number {
    return hc.intervalSeconds * hc.failureThreshold + hc.intervalSeconds + hc.ttlSeconds;
}
