import { expect } from "chai";
import { dnsFailoverSeconds, loadBalancerFailoverSeconds } from "../rules/failover";

describe("failover estimates", () => {
    it("a load balancer fails over after interval x unhealthy threshold", () => {
        expect(loadBalancerFailoverSeconds({ intervalSeconds: 10, unhealthyThreshold: 2 })).to.equal(20);
        expect(loadBalancerFailoverSeconds({ intervalSeconds: 30, unhealthyThreshold: 3 })).to.equal(90);
    });

    it("DNS adds one interval for propagation and the record TTL (the checklist's 10x2 + 10 + 60 = 90 s)", () => {
        expect(dnsFailoverSeconds({ intervalSeconds: 10, failureThreshold: 2, ttlSeconds: 60 })).to.equal(90);
        expect(dnsFailoverSeconds({ intervalSeconds: 30, failureThreshold: 3, ttlSeconds: 300 })).to.equal(420);
    });
});
