import { expect } from "chai";
import { configWarnings, parseStackConfig, validateStackConfig } from "../stacks/config";
import { ACME_DIRECTORIES } from "../rules/acme";
import { withConfig } from "./harness";

const DNS = { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } };
const ACME = { source: "acme", acme: { email: "pki@example.org" } };

function problemsOf(overrides: Record<string, unknown>): string[] {
    return validateStackConfig(withConfig(overrides)).problems;
}

describe("orthweb:tls: where the instances' certificate comes from", () => {
    it("defaults to selfSigned, and to provided when a PEM pair is given (today's stacks keep their meaning)", () => {
        expect(parseStackConfig(withConfig({})).certificateSource).to.deep.equal({ source: "selfSigned" });
    });

    it("acme with the dns front door names the front-door name, in the zone, with staging in dev", () => {
        const config = parseStackConfig(withConfig({ "orthweb:traffic": DNS, "orthweb:tls": ACME }));
        expect(config.certificateSource).to.deep.equal({
            source: "acme",
            acme: { email: "pki@example.org", directoryUrl: ACME_DIRECTORIES.staging, zoneName: "example.org", names: ["pacs.example.org"] },
        });
    });

    it("acme defaults to Let's Encrypt production in prod, and takes a private CA's URL", () => {
        const prod = parseStackConfig(withConfig({ "orthweb:environment": "prod", "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] }, "orthweb:traffic": DNS, "orthweb:tls": ACME }));
        expect(prod.certificateSource.source === "acme" && prod.certificateSource.acme.directoryUrl).to.equal(ACME_DIRECTORIES.production);
        const own = parseStackConfig(withConfig({ "orthweb:traffic": DNS, "orthweb:tls": { ...ACME, acme: { ...ACME.acme, directory: "https://ca.example.org:14000/dir" } } }));
        expect(own.certificateSource.source === "acme" && own.certificateSource.acme.directoryUrl).to.equal("https://ca.example.org:14000/dir");
    });

    it("direct with a zone names each instance in it, plus the extra name", () => {
        const config = parseStackConfig(
            withConfig({ "orthweb:traffic": { frontDoor: "direct", direct: { zoneName: "Example.org." } }, "orthweb:tls": { ...ACME, acme: { ...ACME.acme, extraName: "images.example.org" } } }),
        );
        expect(config.certificateSource.source === "acme" && config.certificateSource.acme.names).to.deep.equal(["pacs-1.example.org", "pacs-2.example.org", "images.example.org"]);
        expect(config.traffic.direct).to.deep.equal({ zoneName: "example.org", recordPrefix: "pacs" });
    });

    it("reports every problem at once, each naming the key, the value and what is allowed", () => {
        const problems = problemsOf({
            "orthweb:network": { internetAccess: false },
            "orthweb:traffic": { frontDoor: "none", clientVpn: {}, direct: { zoneName: "example.org" } },
            "orthweb:tls": { source: "letsencrypt", acme: { email: "nobody", directory: "http://ca.example.org/dir", extraName: "Bad Name" } },
        });
        const text = problems.join("\n");
        expect(text).to.match(/orthweb:tls\.source: got "letsencrypt"; allowed: selfSigned .* \| provided .* \| acme/);
        expect(text).to.match(/orthweb:tls\.acme\.email: got "nobody"; allowed: the contact e-mail/);
        expect(text).to.match(/orthweb:tls\.acme\.directory: got "http:\/\/ca\.example\.org\/dir"; allowed: production \| staging .* https:\/\//);
        expect(text).to.match(/orthweb:tls\.acme\.extraName: got "Bad Name"; allowed:/);
        expect(text).to.match(/orthweb:traffic\.direct: got a section with frontDoor "none"; allowed: only with frontDoor direct/);
    });

    it("refuses acme without the internet, and says why", () => {
        const problems = problemsOf({ "orthweb:network": { internetAccess: false }, "orthweb:traffic": DNS, "orthweb:tls": ACME });
        expect(problems.join("\n")).to.match(/orthweb:network\.internetAccess: got false with tls\.source acme; allowed: true with acme .*Route 53 has no VPC endpoint/);
    });

    it("refuses acme without a zone for the challenges, and acme without its section", () => {
        expect(problemsOf({ "orthweb:tls": ACME })).to.deep.equal([
            'orthweb:tls.source: got "acme" with frontDoor "direct" and no traffic.direct.zoneName; allowed: acme with frontDoor dns (traffic.dns), ' +
                "or frontDoor direct with traffic.direct.zoneName (the challenges are written in that Route 53 zone); a load balancer has ACM (traffic.loadBalancer.zoneName)",
        ]);
        expect(problemsOf({ "orthweb:traffic": DNS, "orthweb:tls": { source: "acme" } })).to.deep.equal([
            "orthweb:tls.acme: required when orthweb:tls.source is acme; allowed: a map with email (the ACME account's contact), optionally directory and extraName",
        ]);
    });

    it("refuses an extra name outside the zone (the instances may write challenges only there)", () => {
        const problems = problemsOf({ "orthweb:traffic": DNS, "orthweb:tls": { ...ACME, acme: { ...ACME.acme, extraName: "pacs.example.com" } } });
        expect(problems).to.have.length(1);
        expect(problems[0]).to.match(/^orthweb:tls\.acme\.extraName: got "pacs\.example\.com", which is not in the zone example\.org \(orthweb:traffic\.dns\.zoneName\); allowed: a name under example\.org/);
    });

    it("refuses a PEM pair with another source, provided without one, and tls.acme with another source", () => {
        expect(problemsOf({ "orthweb:tls": { source: "provided" } })[0]).to.match(/^orthweb:tls\.source: got "provided" without orthweb:tlsCertificatePem/);
        expect(problemsOf({ "orthweb:tlsCertificatePem": "x", "orthweb:tlsPrivateKeyPem": "y", "orthweb:tls": { source: "selfSigned" } }).join("\n")).to.match(
            /orthweb:tls\.source: got "selfSigned" while orthweb:tlsCertificatePem\/tlsPrivateKeyPem are set; allowed: provided with them, or remove them/,
        );
        expect(problemsOf({ "orthweb:tls": { acme: ACME.acme } })).to.deep.equal(['orthweb:tls.acme: got a section with tls.source "selfSigned"; allowed: only with tls.source acme']);
    });

    it("warns a stack with a zone and a self-signed certificate that acme would be trusted", () => {
        const warnings = configWarnings(parseStackConfig(withConfig({ "orthweb:traffic": DNS })));
        expect(warnings.join("\n")).to.match(/orthweb:tls\.source: selfSigned while pacs\.example\.org is in your zone example\.org/);
        expect(configWarnings(parseStackConfig(withConfig({ "orthweb:traffic": DNS, "orthweb:tls": ACME }))).filter((w) => w.startsWith("orthweb:tls"))).to.deep.equal([]);
    });
});
