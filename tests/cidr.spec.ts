import { expect } from "chai";
import { canonical, contains, hostBitsSet, isIpv4Address, isPrivate, overlaps, parseCidr, vpcResolver } from "../rules/cidr";

const cidr = (text: string) => {
    const parsed = parseCidr(text);
    if (!parsed) throw new Error(`test fixture ${text} is not a CIDR`);
    return parsed;
};

describe("CIDR math", () => {
    it("tells a single IPv4 address from blocks, names and impossible octets", () => {
        expect(["10.0.1.16", "0.0.0.0", "255.255.255.255"].map(isIpv4Address)).to.deep.equal([true, true, true]);
        expect(["10.0.1.16/32", "10.0.1.256", "ip-10-0-1-16.ec2.internal", "*.ec2.internal", "", undefined].map(isIpv4Address)).to.deep.equal([false, false, false, false, false, false]);
    });

    it("parses dotted quads with a prefix and rejects anything else", () => {
        expect(parseCidr("172.17.0.0/16")).to.include({ prefix: 16 });
        for (const bad of ["172.17.0.0", "172.17.0.0/33", "256.0.0.0/8", "10.0.0/8", "a.b.c.d/8", " 10.0.0.0/8", "10.0.0.0/8 "]) {
            expect(parseCidr(bad), bad).to.equal(undefined);
        }
    });

    it("spots host bits and gives the network it meant", () => {
        expect(hostBitsSet(cidr("172.17.3.0/16"))).to.equal(true);
        expect(canonical(cidr("172.17.3.0/16"))).to.equal("172.17.0.0/16");
        expect(hostBitsSet(cidr("172.17.0.0/16"))).to.equal(false);
        expect(hostBitsSet(cidr("0.0.0.0/0"))).to.equal(false);
        expect(hostBitsSet(cidr("203.0.113.7/32"))).to.equal(false);
    });

    it("detects overlap in either direction and adjacency as none", () => {
        expect(overlaps(cidr("10.0.0.0/16"), cidr("10.0.128.0/17"))).to.equal(true);
        expect(overlaps(cidr("10.0.128.0/17"), cidr("10.0.0.0/16"))).to.equal(true);
        expect(overlaps(cidr("10.0.0.0/17"), cidr("10.0.128.0/17"))).to.equal(false);
        expect(overlaps(cidr("192.168.0.0/22"), cidr("172.17.0.0/16"))).to.equal(false);
        expect(overlaps(cidr("0.0.0.0/0"), cidr("8.8.8.8/32"))).to.equal(true);
    });

    it("knows containment and the RFC 1918 ranges", () => {
        expect(contains(cidr("10.0.0.0/8"), cidr("10.20.0.0/16"))).to.equal(true);
        expect(contains(cidr("10.20.0.0/16"), cidr("10.0.0.0/8"))).to.equal(false);
        expect(isPrivate(cidr("172.31.0.0/16"))).to.equal(true);
        expect(isPrivate(cidr("172.32.0.0/16"))).to.equal(false);
        expect(isPrivate(cidr("192.168.4.0/22"))).to.equal(true);
        expect(isPrivate(cidr("100.64.0.0/16"))).to.equal(false);
    });

    it("finds the VPC resolver at the base address plus two", () => {
        expect(vpcResolver("172.17.0.0/16")).to.equal("172.17.0.2");
        expect(vpcResolver("10.20.4.0/22")).to.equal("10.20.4.2");
        expect(() => vpcResolver("nope")).to.throw(/not an IPv4 CIDR/);
    });
});
