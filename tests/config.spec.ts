import { expect } from "chai";
import { ConfigError, parseStackConfig, validateStackConfig } from "../stacks/config";
import { DEFAULT_NGINX_IMAGE, DEFAULT_ORTHANC_IMAGE } from "../stacks/schema";
import { MINIMAL, withConfig } from "./harness";

function problemsOf(overrides: Record<string, unknown>): string[] {
    const { config, problems } = validateStackConfig(withConfig(overrides));
    if (problems.length === 0) expect(config, "a config when there is no problem").to.not.equal(undefined);
    return problems;
}

/** Exactly one problem, naming `key`, and matching every pattern given. */
function expectOneProblem(overrides: Record<string, unknown>, key: string, ...patterns: RegExp[]) {
    const problems = problemsOf(overrides);
    expect(problems, JSON.stringify(problems)).to.have.length(1);
    expect(problems[0].startsWith(`${key}:`), problems[0]).to.equal(true);
    for (const p of patterns) expect(problems[0]).to.match(p);
}

describe("stack config", () => {
    describe("defaults", () => {
        it("fills every default of the contract from the minimal config", () => {
            const config = parseStackConfig(MINIMAL);
            expect(config.environment).to.equal("dev");
            expect(config.network).to.deep.equal({ vpcCidr: "172.17.0.0/16", webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"], internetAccess: true });
            expect(config.orthanc).to.deep.equal({ instanceType: "t3.medium", image: DEFAULT_ORTHANC_IMAGE, nginxImage: DEFAULT_NGINX_IMAGE, aet: "ORTHANC", modalities: [], dicomClientCertificates: false, pullThroughCache: {} });
            expect(config.database).to.deep.equal({ instanceClass: "db.t4g.small", engineVersion: "16", allocatedStorageGiB: 20 });
            expect(config.traffic.frontDoor).to.equal("direct");
            expect(config.tls).to.equal(undefined);
            expect(config.region).to.equal("eu-west-1");
        });

        it("defaults frontDoor to direct when traffic is an empty section", () => {
            expect(parseStackConfig(withConfig({ "orthweb:traffic": {} })).traffic.frontDoor).to.equal("direct");
        });

        it("fills defaults inside a partly given section", () => {
            const config = parseStackConfig(withConfig({ "orthweb:network": { webClientCidrs: ["10.0.0.0/8"] } }));
            expect(config.network.vpcCidr).to.equal("172.17.0.0/16");
            expect(config.network.dicomClientCidrs).to.deep.equal(["0.0.0.0/0"]);
        });

        it("reads sections the Pulumi runtime hands over as JSON text", () => {
            const config = parseStackConfig({
                "aws:region": "us-east-1",
                "orthweb:environment": "prod",
                "orthweb:orthanc": JSON.stringify({ pullThroughCache: { enabled: false } }),
                "orthweb:network": JSON.stringify({ vpcCidr: "10.20.0.0/16", webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] }),
                "orthweb:traffic": JSON.stringify({ frontDoor: "direct" }),
            });
            expect(config.environment).to.equal("prod");
            expect(config.network.vpcCidr).to.equal("10.20.0.0/16");
        });

        it("accepts an unquoted engine version and keeps it as text", () => {
            expect(parseStackConfig(withConfig({ "orthweb:database": { engineVersion: 17 } })).database.engineVersion).to.equal("17");
            expect(parseStackConfig(withConfig({ "orthweb:database": { engineVersion: "16.4" } })).database.engineVersion).to.equal("16.4");
        });

        it("ignores other namespaces (aws:profile, pulumi:...)", () => {
            expect(problemsOf({ "aws:profile": "hospital", "pulumi:disable-default-providers": ["kubernetes"] })).to.deep.equal([]);
        });

        it("accepts an AE title with inner spaces, digits and punctuation", () => {
            expect(parseStackConfig(withConfig({ "orthweb:orthanc": { aet: "PACS MAIN_1.A-B" } })).orthanc.aet).to.equal("PACS MAIN_1.A-B");
        });
    });

    describe("invalid configs: each problem names the key, the bad value and what is allowed", () => {
        it("1. traffic missing", () => expectOneProblem({ "orthweb:traffic": null }, "orthweb:traffic", /required/, /allowed/));
        it("2. aws:region missing", () => expectOneProblem({ "aws:region": null }, "aws:region", /required/, /eu-west-1/));
        it("3. aws:region malformed", () => expectOneProblem({ "aws:region": "Ireland" }, "aws:region", /"Ireland"/, /allowed: an AWS region/));
        it("4. unknown top-level key", () => expectOneProblem({ "orthweb:frontdoor": "dns" }, "orthweb:frontdoor", /unknown key/, /traffic/, /environment/));
        it("5. environment not dev|prod", () => expectOneProblem({ "orthweb:environment": "staging" }, "orthweb:environment", /"staging"/, /allowed: dev \| prod/));
        it("6. frontDoor not a built pattern", () => expectOneProblem({ "orthweb:traffic": { frontDoor: "cdn" } }, "orthweb:traffic.frontDoor", /"cdn"/, /allowed: direct/));
        it("7. frontDoor of the wrong type", () => expectOneProblem({ "orthweb:traffic": { frontDoor: 3 } }, "orthweb:traffic.frontDoor", /got 3/, /allowed/));
        it("8. unknown key in traffic", () => expectOneProblem({ "orthweb:traffic": { frontDoor: "direct", door: "x" } }, "orthweb:traffic.door", /unknown key/, /frontDoor/));
        it("9. traffic not an object", () => expectOneProblem({ "orthweb:traffic": "direct" }, "orthweb:traffic", /"direct"/, /allowed/));
        it("10. vpcCidr not a CIDR", () => expectOneProblem({ "orthweb:network": { vpcCidr: "172.17.0.0" } }, "orthweb:network.vpcCidr", /"172.17.0.0"/, /not an IPv4 CIDR/, /allowed/));
        it("11. vpcCidr with host bits set", () => expectOneProblem({ "orthweb:network": { vpcCidr: "172.17.3.0/16" } }, "orthweb:network.vpcCidr", /host bits/, /172\.17\.0\.0\/16/));
        it("12. vpcCidr too large a block", () => expectOneProblem({ "orthweb:network": { vpcCidr: "10.0.0.0/8" } }, "orthweb:network.vpcCidr", /\/8 is out of range/, /\/16 to \/22/));
        it("13. vpcCidr too small a block", () => expectOneProblem({ "orthweb:network": { vpcCidr: "10.0.0.0/24" } }, "orthweb:network.vpcCidr", /\/24 is out of range/));
        it("14. vpcCidr in public address space", () => expectOneProblem({ "orthweb:network": { vpcCidr: "8.8.0.0/16" } }, "orthweb:network.vpcCidr", /RFC 1918/));
        it("15. vpcCidr octet out of range", () => expectOneProblem({ "orthweb:network": { vpcCidr: "172.300.0.0/16" } }, "orthweb:network.vpcCidr", /not an IPv4 CIDR/));
        it("16. webClientCidrs not a list", () => expectOneProblem({ "orthweb:network": { webClientCidrs: "0.0.0.0/0" } }, "orthweb:network.webClientCidrs", /"0.0.0.0\/0"/, /allowed: a list/));
        it("17. a bad entry in webClientCidrs is named by index", () =>
            expectOneProblem({ "orthweb:network": { webClientCidrs: ["10.0.0.0/8", "my office"] } }, "orthweb:network.webClientCidrs[1]", /"my office"/, /not an IPv4 CIDR/));
        it("18. dicomClientCidrs entry with host bits set", () =>
            expectOneProblem({ "orthweb:network": { dicomClientCidrs: ["203.0.113.7/24"] } }, "orthweb:network.dicomClientCidrs[0]", /host bits/, /203\.0\.113\.0\/24/));
        it("19. duplicate client CIDR", () =>
            expectOneProblem({ "orthweb:network": { dicomClientCidrs: ["10.1.0.0/16", "10.1.0.0/16"] } }, "orthweb:network.dicomClientCidrs[1]", /listed twice/));
        it("20. too many client CIDRs for the security group quota", () => {
            const many = Array.from({ length: 25 }, (_, i) => `10.${i}.0.0/16`);
            expectOneProblem({ "orthweb:network": { webClientCidrs: many, dicomClientCidrs: many } }, "orthweb:network.webClientCidrs + dicomClientCidrs", /25 \+ 25/, /40 in all/);
        });
        it("21. unknown key in network", () => expectOneProblem({ "orthweb:network": { vpcCIDR: "10.0.0.0/16" } }, "orthweb:network.vpcCIDR", /unknown key/, /vpcCidr, webClientCidrs, dicomClientCidrs/));
        it("22. instanceType malformed", () => expectOneProblem({ "orthweb:orthanc": { instanceType: "medium" } }, "orthweb:orthanc.instanceType", /"medium"/, /t3\.medium/));
        it("23. image without a tag", () => expectOneProblem({ "orthweb:orthanc": { image: "orthancteam/orthanc" } }, "orthweb:orthanc.image", /tag or digest/));
        it("24. image on latest", () => expectOneProblem({ "orthweb:orthanc": { image: "orthancteam/orthanc:latest" } }, "orthweb:orthanc.image", /not latest/));
        it("25. nginxImage not a string", () => expectOneProblem({ "orthweb:orthanc": { nginxImage: 1.28 } }, "orthweb:orthanc.nginxImage", /got 1.28/, /pinned image/));
        it("26. AE title too long", () => expectOneProblem({ "orthweb:orthanc": { aet: "ORTHANC_PACS_MAIN_1" } }, "orthweb:orthanc.aet", /"ORTHANC_PACS_MAIN_1"/, /1 to 16 characters/));
        it("27. AE title empty", () => expectOneProblem({ "orthweb:orthanc": { aet: "" } }, "orthweb:orthanc.aet", /1 to 16/));
        it("28. AE title with a backslash", () => expectOneProblem({ "orthweb:orthanc": { aet: "PACS\\1" } }, "orthweb:orthanc.aet", /allowed/));
        it("29. AE title with a leading space", () => expectOneProblem({ "orthweb:orthanc": { aet: " PACS" } }, "orthweb:orthanc.aet", /no leading or trailing space/));
        it("30. unknown key in orthanc", () => expectOneProblem({ "orthweb:orthanc": { aeTitle: "X" } }, "orthweb:orthanc.aeTitle", /unknown key/, /aet/));
        it("31. instanceClass without db. prefix", () => expectOneProblem({ "orthweb:database": { instanceClass: "t4g.small" } }, "orthweb:database.instanceClass", /"t4g.small"/, /db\.t4g\.small/));
        it("32. engineVersion unsupported", () => expectOneProblem({ "orthweb:database": { engineVersion: "12" } }, "orthweb:database.engineVersion", /"12"/, /14 to 17/));
        it("33. engineVersion fractional number", () => expectOneProblem({ "orthweb:database": { engineVersion: 16.4 } }, "orthweb:database.engineVersion", /16.4/, /as a string/));
        it("34. allocatedStorageGiB below the minimum", () => expectOneProblem({ "orthweb:database": { allocatedStorageGiB: 10 } }, "orthweb:database.allocatedStorageGiB", /got 10/, /20 to 65536/));
        it("35. allocatedStorageGiB not whole", () => expectOneProblem({ "orthweb:database": { allocatedStorageGiB: 20.5 } }, "orthweb:database.allocatedStorageGiB", /got 20.5/, /whole number/));
        it("36. allocatedStorageGiB as text", () => expectOneProblem({ "orthweb:database": { allocatedStorageGiB: "100" } }, "orthweb:database.allocatedStorageGiB", /got "100"/, /whole number/));
        it("37. unknown key in database", () => expectOneProblem({ "orthweb:database": { multiAz: true } }, "orthweb:database.multiAz", /unknown key/, /instanceClass/));
        it("38. certificate without its key", () => expectOneProblem({ "orthweb:tlsCertificatePem": "-----BEGIN CERTIFICATE-----" }, "orthweb:tlsPrivateKeyPem", /required when orthweb:tlsCertificatePem is set/));
        it("39. key without its certificate", () => expectOneProblem({ "orthweb:tlsPrivateKeyPem": "x" }, "orthweb:tlsCertificatePem", /required when orthweb:tlsPrivateKeyPem is set/));
        it("40. a section given as malformed JSON text", () => expectOneProblem({ "orthweb:network": "{vpcCidr: 10.0.0.0/16" }, "orthweb:network", /allowed/));
    });

    describe("reporting", () => {
        it("reports every problem at once, across sections", () => {
            const problems = problemsOf({
                "aws:region": null,
                "orthweb:environment": "qa",
                "orthweb:network": { vpcCidr: "1.2.3.4", webClientCidrs: ["x"] },
                "orthweb:orthanc": { aet: "" },
                "orthweb:database": { allocatedStorageGiB: 1 },
                "orthweb:traffic": { frontDoor: "nope" },
                "orthweb:tlsPrivateKeyPem": "k",
            });
            const keys = problems.map((p) => p.split(":").slice(0, 2).join(":").split(" ")[0]);
            expect(problems).to.have.length(8);
            for (const key of [
                "aws:region",
                "orthweb:environment",
                "orthweb:network.vpcCidr",
                "orthweb:network.webClientCidrs[0]",
                "orthweb:orthanc.aet",
                "orthweb:database.allocatedStorageGiB",
                "orthweb:traffic.frontDoor",
                "orthweb:tlsCertificatePem",
            ]) {
                expect(keys, key).to.include(key);
            }
        });

        it("throws one ConfigError listing each problem on its own line", () => {
            try {
                parseStackConfig(withConfig({ "orthweb:environment": "qa", "orthweb:orthanc": { aet: "" } }));
                expect.fail("no error");
            } catch (e) {
                expect(e).to.be.instanceOf(ConfigError);
                const err = e as ConfigError;
                expect(err.problems).to.have.length(2);
                expect(err.message.split("\n")).to.have.length(3);
                expect(err.message).to.match(/^Invalid stack configuration \(2 problems\)/);
            }
        });

        it("never echoes a secret value in a message", () => {
            const secret = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET\n-----END PRIVATE KEY-----";
            const problems = problemsOf({ "orthweb:tlsCertificatePem": 42, "orthweb:tlsPrivateKeyPem": secret });
            expect(problems.join("\n")).to.not.include("TOP-SECRET");
            expect(problems.join("\n")).to.include("orthweb:tlsCertificatePem");
        });
    });
});
