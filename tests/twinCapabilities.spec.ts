// The twin runs each process with the capabilities compose gives its container (twin/capabilities.ts).
import { expect } from "chai";
import { renderCompose } from "../components/bootstrap/compose";
import { boundingSet, withCapabilitiesOf } from "../twin/capabilities";

describe("twin: the containers' capabilities, as setpriv bounding sets", () => {
    const compose = renderCompose({ orthancImage: "o:1", nginxImage: "n:1", dir: "/opt/orthweb", region: "eu-west-1" });

    it("reads them from the rendered compose file: none for Orthanc and the checker, three for nginx", () => {
        expect(boundingSet(compose, "orthanc")).to.equal("-all");
        expect(boundingSet(compose, "healthz")).to.equal("-all");
        expect(boundingSet(compose, "nginx")).to.equal("-all,+chown,+setgid,+setuid");
        expect(withCapabilitiesOf(compose, "orthanc", "Orthanc", ["/x.json"])).to.deep.equal(["setpriv", ["--bounding-set=-all", "--inh-caps=-all", "--", "Orthanc", "/x.json"]]);
    });

    it("runs a service that keeps Docker's defaults as it is, and refuses what it cannot model", () => {
        const plain = "services:\n  a: { image: x }\n  b: { image: x, cap_drop: [NET_RAW] }\n";
        expect(withCapabilitiesOf(plain, "a", "a", ["1"])).to.deep.equal(["a", ["1"]]);
        expect(() => boundingSet(plain, "b")).to.throw(/b: cap_drop \["NET_RAW"\]: the twin models only \[ALL\]/);
        expect(() => boundingSet(plain, "c")).to.throw(/no service c/);
    });
});
