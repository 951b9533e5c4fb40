// nginx's DICOM sender gate (components/bootstrap/dicomSenderGate.ts): a modality's client certificate works only
// with that modality's calling AE titles. Rendering, the script's decisions (run here under node), and the real thing:
// Debian's nginx with its stream and njs modules, dcmtk's storescu/echoscu with the modalities' certificates, and
// storescp standing in for Orthanc.
import { expect } from "chai";
import { NJS_STREAM_MODULE } from "../../components/bootstrap/dicomSenderGate";
import { needFile, needTool } from "../localTools";
import { associateRqHeader, SenderGateLab } from "../senderGateLab";

const CT = { name: "ct-1", aet: "CT_ROOM_1" };
const MR = { name: "mr-1", aet: ["MR_ROOM_1", "MR_3T"] };

describe("DICOM sender gate", () => {
    describe("for real: nginx with njs, dcmtk with the modalities' certificates", function () {
        this.timeout(90000);
        let lab: SenderGateLab;
        before(async function () {
            for (const tool of ["nginx", "storescu", "echoscu", "storescp", "openssl"]) needTool(this, tool, tool === "nginx" || tool === "openssl" ? tool : "dcmtk");
            needTool(this, "ip", "iproute2");
            needFile(this, "/usr/lib/nginx/modules/ngx_stream_module.so", "libnginx-mod-stream");
            needFile(this, NJS_STREAM_MODULE, "libnginx-mod-stream-js");
            lab = await SenderGateLab.start({ gate: true, modalities: [CT, MR], prereadSeconds: 2 });
        });
        after(async () => lab?.stop());

        it("ct-1's certificate with its own title stores and echoes; mr-1's with either of its titles", async () => {
            const stored = await lab.store("ct-1", "CT_ROOM_1");
            expect(stored.ok, stored.output).to.equal(true);
            expect((await lab.echo("ct-1", "CT_ROOM_1")).ok).to.equal(true);
            expect((await lab.echo("mr-1", "MR_ROOM_1")).ok).to.equal(true);
            expect((await lab.echo("mr-1", "mr_3t")).ok).to.equal(true);
        });

        it("ct-1's certificate with MR_ROOM_1's title is refused before anything reaches the Orthanc behind nginx", async () => {
            const before = lab.associationsReceived();
            const store = await lab.store("ct-1", "MR_ROOM_1");
            expect(store.ok).to.equal(false);
            expect(store.output).to.match(/Association Request Failed/);
            expect(store.output).to.not.match(/Association Accepted/);
            expect((await lab.echo("ct-1", "MR_3T")).ok).to.equal(false);
            expect((await lab.echo("mr-1", "CT_ROOM_1")).ok).to.equal(false);
            expect(lab.associationsReceived()).to.equal(before);
            expect(lab.log("nginx")).to.match(/orthweb sender gate: refused 127\.0\.0\.1: calling AE title MR_ROOM_1 with (CN=ct-1\.modalities\.orthweb\.internal,O=Orthweb|O=Orthweb,CN=ct-1\.modalities\.orthweb\.internal) \(its titles: CT_ROOM_1\)/);
        });

        it("a truncated and an oversized A-ASSOCIATE-RQ are refused without reaching Orthanc, and nginx keeps serving", async () => {
            const before = lab.associationsReceived();
            const full = associateRqHeader("CT_ROOM_1", 200);
            // Sent in two records, then nothing: nginx gives up after its preread timeout (2 s here).
            const truncated = await lab.raw("ct-1", [full.subarray(0, 30), full.subarray(30, 60)], 8000);
            expect(truncated).to.deep.include({ closedByServer: true, received: 0 });
            expect(truncated.elapsedMs).to.be.within(1500, 6000);
            // Declares 4 GB: refused as soon as the header is in.
            const oversized = await lab.raw("ct-1", [associateRqHeader("CT_ROOM_1", 0xfffffff0)], 8000);
            expect(oversized).to.deep.include({ closedByServer: true, received: 0 });
            expect(oversized.elapsedMs).to.be.below(1500);
            expect(lab.associationsReceived()).to.equal(before);
            expect(lab.log("nginx")).to.include("orthweb sender gate: refused 127.0.0.1: an A-ASSOCIATE-RQ of 4294967280 bytes");
            const after = await lab.store("ct-1", "CT_ROOM_1");
            expect(after.ok, after.output).to.equal(true);
        });
    });
});
