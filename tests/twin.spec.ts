// The local twin's pure parts (twin/): what it takes from the program, how it turns target groups into
// HAProxy, what it changes for Debian, the DICOM it sends, and how it measures and reports. The run itself is
// `npm run test:twin` (root). Tests that need a real tool are pending without it; with REQUIRE_TOOLS=1 they fail.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderBootstrapFiles, renderUserData } from "../components/bootstrap";
import { renderBundle } from "../rules/rollout";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { renderHealthChecker } from "../components/bootstrap/healthChecker";
import { renderDatabaseSetupSql } from "../components/bootstrap/databaseSetup";
import { renderOrthancConfig, SECRET_PATHS, SECRETS_FILTER } from "../components/bootstrap/orthanc";
import { renderStartScript, shellQuote } from "../components/bootstrap/startScript";
import { renderClaimScript } from "../components/bootstrap/claimScript";
import { renderApplyDocument, renderApplyScript } from "../components/bootstrap/apply";
import { renderAcmeScript } from "../components/bootstrap/acmeScript";
import { BOOTSTRAP_DIR } from "../rules/instanceFiles";
import { acknowledged, parseStatsCsv, routed, storescuArgs } from "../twin/clients";
import { DEBIAN_PLUGINS, DEBIAN_STREAM_MODULE, debianNginxConf, debianOrthancConfig, jsonChanges, lineChanges, secretsFilter } from "../twin/debian";
import { acmeFromProgram, applyDocumentFrom, bootstrapFromBundle, bootstrapFromRegistrations, bootstrapFromUserData, fromProgram, ProgramInputError, SSM_DOCUMENT_TYPE } from "../twin/fromProgram";
import { acmeSubstitutions, applySubstitutions, describeSubstitutions, nginxSubstitutions, substitute, SubstitutionError, withFlagValues } from "../twin/repoint";
import { addressPlan, pickSubnetNumber, TWIN_PACKAGES } from "../twin/lab";
import { Attempt, ceilTenth, failoverGap, failuresOutside, Outcome, summaryLine, verdict } from "../twin/summary";
import { SCENARIOS } from "../twin/scenarios";
import { instanceKillLine, MAX_MODELED_FAILOVER_SECONDS } from "../twin/scenarios/instanceKill";
import { orthancKillLine } from "../twin/scenarios/orthancKill";
import { matcherCodes, modeledFailoverSeconds, NLB_CONTRACT_HEALTH_CHECK, networkLoadBalancerStack, TARGET_GROUP_TYPE, TargetGroupError, targetGroupsFrom } from "../twin/targetGroups";
import { build } from "./harness";
import { HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../rules/containerNetwork";

const FIXTURE = path.join(__dirname, "..", "twin", "fixtures", "nlb-target-groups.json");

function tgRegistration(name: string, inputs: Record<string, unknown>) {
    return { type: TARGET_GROUP_TYPE, name, inputs };
}

const HTTPS_CHECK = { protocol: "HTTPS", path: "/healthz", port: "443", interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

const ORTHANC_PARAMS = {
    name: "orthanc",
    aet: "ORTHANC",
    database: { host: "orthanc-db.c0mock.eu-west-1.rds.amazonaws.com", port: 5432, name: "orthanc" },
    bucket: { name: "orthanc-bucket-0mock", region: "eu-west-1" },
};

describe("local twin: target groups from the program", () => {
    it("reads each target group's port, protocol and every health-check setting", () => {
        const [tg] = targetGroupsFrom([tgRegistration("lb-dicom", { port: 11112, protocol: "TCP", healthCheck: HTTPS_CHECK })]);
        expect(tg).to.deep.equal({
            name: "lb-dicom",
            port: 11112,
            protocol: "TCP",
            healthCheck: { protocol: "HTTPS", path: "/healthz", port: 443, intervalSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeoutSeconds: 5, timeoutFrom: "program", matcher: "200-399" },
            unhealthyConnections: { terminate: true },
        });
    });

    it("reads what the NLB does with an unhealthy target's connections: AWS's default termination, or draining", () => {
        const tg = (targetHealthStates: unknown) => targetGroupsFrom([tgRegistration("t", { port: 443, protocol: "TCP", healthCheck: HTTPS_CHECK, targetHealthStates })])[0];
        expect(tg(undefined).unhealthyConnections).to.deep.equal({ terminate: true });
        expect(tg([{ enableUnhealthyConnectionTermination: true }]).unhealthyConnections).to.deep.equal({ terminate: true });
        expect(tg([{ enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: 300 }]).unhealthyConnections).to.deep.equal({ terminate: false, drainingSeconds: 300 });
        expect(() => tg([{ enableUnhealthyConnectionTermination: true, unhealthyDrainingInterval: 30 }])).to.throw(/only with enableUnhealthyConnectionTermination false/);
        expect(() => tg([{ enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: 360001 }])).to.throw(/AWS allows 0 to 360000/);
    });

    it("takes AWS's documented defaults only for the check port (traffic-port) and timeout, and says so", () => {
        const { port, timeout, ...rest } = HTTPS_CHECK;
        void port;
        void timeout;
        const [tg] = targetGroupsFrom([tgRegistration("lb-web", { port: 443, protocol: "TCP", healthCheck: rest })]);
        expect(tg.healthCheck.port).to.equal("traffic-port");
        expect(tg.healthCheck.timeoutSeconds).to.equal(10);
        expect(tg.healthCheck.timeoutFrom).to.equal("AWS default");
    });

    it("fails loudly, naming the resource type, when the program registers no target group", async () => {
        const direct = await build();
        expect(() => targetGroupsFrom(direct.registrations)).to.throw(TargetGroupError, `registered no ${TARGET_GROUP_TYPE}`);
    });

    it("invents no interval or threshold: each missing one is named, all at once", () => {
        const err = (() => {
            try {
                targetGroupsFrom([tgRegistration("lb-web", { port: 443, protocol: "TCP", healthCheck: { protocol: "HTTPS", path: "/healthz" } })]);
            } catch (e) {
                return e as TargetGroupError;
            }
            throw new Error("expected a TargetGroupError");
        })();
        expect(err.problems).to.have.length(3);
        for (const field of ["interval", "healthyThreshold", "unhealthyThreshold"]) {
            expect(err.problems.some((p) => p.startsWith(`target group lb-web: healthCheck.${field}: not set`)), field).to.equal(true);
        }
    });

    it("rejects what a network load balancer cannot be: an HTTP target group, a path on a TCP check, a threshold out of range", () => {
        expect(() => targetGroupsFrom([tgRegistration("alb", { port: 443, protocol: "HTTPS", healthCheck: HTTPS_CHECK })])).to.throw(/alb: protocol: got "HTTPS"; .*TCP or TLS/);
        expect(() => targetGroupsFrom([tgRegistration("t", { port: 11112, protocol: "TCP", healthCheck: { ...HTTPS_CHECK, protocol: "TCP" } })])).to.throw(/path\/matcher set on a TCP check/);
        expect(() => targetGroupsFrom([tgRegistration("t", { port: 11112, protocol: "TCP", healthCheck: { ...HTTPS_CHECK, unhealthyThreshold: 1 } })])).to.throw(/unhealthyThreshold: got 1; AWS allows 2 to 10/);
    });

    it("parses matchers as codes and ranges, and refuses malformed ones", () => {
        expect(matcherCodes("200,401")).to.deep.equal([200, 401]);
        expect(matcherCodes("200-202")).to.deep.equal([200, 201, 202]);
        expect(matcherCodes("2xx")).to.equal(undefined);
        expect(matcherCodes("399-200")).to.equal(undefined);
    });

    it("models failover as interval x unhealthy threshold: 10 s with the contract's defaults", () => {
        const [tg] = targetGroupsFrom([tgRegistration("t", { port: 443, protocol: "TCP", healthCheck: { ...HTTPS_CHECK, interval: NLB_CONTRACT_HEALTH_CHECK.intervalSeconds, unhealthyThreshold: NLB_CONTRACT_HEALTH_CHECK.unhealthyThreshold } })]);
        expect(modeledFailoverSeconds(tg)).to.equal(10);
    });

    it("asks the program for a network load balancer with the contract's health check, keeping a client VPN", () => {
        const raw = { "aws:region": "eu-west-1", "orthweb:traffic": { frontDoor: "direct", clientVpn: { clientCidr: "192.168.0.0/22" } } };
        const { raw: nlb, note } = networkLoadBalancerStack(raw);
        expect(nlb["orthweb:traffic"]).to.deep.equal({
            frontDoor: "loadBalancer",
            loadBalancer: { type: "network", healthCheck: { intervalSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 } },
            clientVpn: { clientCidr: "192.168.0.0/22" },
        });
        expect(note).to.match(/"direct" replaced by loadBalancer type network/);
        const already = { "aws:region": "eu-west-1", "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network", healthCheck: { intervalSeconds: 30, healthyThreshold: 5, unhealthyThreshold: 3 } } } };
        expect(networkLoadBalancerStack(already).raw).to.equal(already);
    });

    it("keeps its fixture (the HAProxy tests' fixed input) shaped like the program's target groups", () => {
        const tgs = targetGroupsFrom(JSON.parse(fs.readFileSync(FIXTURE, "utf8")));
        expect(tgs.map((t) => t.port).sort((x, y) => x - y)).to.deep.equal([443, 11112]);
    });

    it("reads the program's own prod target groups: 443 and 11112, both checked on /healthz via 443, 5 s / 3 / 2", async () => {
        const { targetGroups } = await fromProgram();
        expect(targetGroups.map((t) => t.port).sort((x, y) => x - y)).to.deep.equal([443, 11112]);
        for (const tg of targetGroups) {
            expect(tg.healthCheck, tg.name).to.deep.include({ protocol: "HTTPS", path: "/healthz", port: 443, intervalSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2, timeoutSeconds: 4 });
        }
    });
});

describe("local twin: Debian deviations", () => {
    const rendered = renderOrthancConfig(ORTHANC_PARAMS);
    const twin = { databaseHost: "10.251.9.13", databasePort: 5432, storageDirectory: "/tmp/twin/orthanc-1/storage" };

    it("lists every change to the rendered orthanc.json, each with its reason, and changes nothing else", () => {
        const { config, deviations } = debianOrthancConfig(rendered, twin);
        expect(deviations.map((d) => d.path).sort()).to.deep.equal([".Plugins", ".PostgreSQL.EnableStorage", ".PostgreSQL.Host", ".StorageDirectory"]);
        expect(deviations.every((d) => !d.why.includes("no reason"))).to.equal(true);
        expect(jsonChanges(rendered, config).length).to.equal(deviations.length);
        expect(config.Plugins).to.deep.equal(DEBIAN_PLUGINS);
        const pg = config.PostgreSQL as Record<string, unknown>;
        expect([pg.EnableSsl, pg.Lock, pg.EnableIndex, pg.EnableStorage]).to.deep.equal([true, false, true, true]);
        expect(config.AwsS3Storage).to.deep.equal(rendered.AwsS3Storage);
    });

    it("does not touch the rendered object it adapts", () => {
        const before = JSON.stringify(rendered);
        debianOrthancConfig(rendered, twin);
        expect(JSON.stringify(rendered)).to.equal(before);
    });

    it("refuses a config without the shared PostgreSQL index", () => {
        expect(() => debianOrthancConfig({ ...rendered, PostgreSQL: { EnableIndex: false } }, twin)).to.throw(/PostgreSQL.EnableIndex/);
    });

    it("fills the secrets with the jq filter read out of the program's start script, at SECRET_PATHS", () => {
        const script = renderStartScript({ region: "eu-west-1", dir: "/opt/orthweb", secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } });
        expect(secretsFilter(script)).to.equal(SECRETS_FILTER);
        expect(script).to.contain(shellQuote(secretsFilter(script)));
        expect(secretsFilter(script)).to.contain(`${SECRET_PATHS.databaseUri} = "postgresql://`);
        expect(() => secretsFilter(script.replace('"$DIR/orthanc.template.json" | replace_file', '"$DIR/other.json" | replace_file'))).to.throw(/start\.sh: 0 lines run jq on the orthanc\.json template/);
        expect(() => secretsFilter(script.replace("--arg user ", "--arg login "))).to.throw(/does not pass --arg user/);
    });

    it("adds Debian's stream module to nginx.conf; the rest differs from the instance's file only in the twin's parameters", () => {
        const instance = renderNginxConf({ orthancHost: ORTHANC_CONTAINER_ADDRESS, healthCheckerHost: HEALTHZ_CONTAINER_ADDRESS, certificatePath: "/etc/nginx/tls/server.crt", keyPath: "/etc/nginx/tls/server.key" });
        const twinConf = debianNginxConf(
            renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: "/t/server.crt", keyPath: "/t/server.key", pidPath: "/t/nginx.pid", listenAddress: "10.251.9.6", peerListenAddress: "10.251.9.21", peerMapGlob: "/t/peer/*.map" }),
        );
        expect(twinConf.startsWith(`load_module ${DEBIAN_STREAM_MODULE};\n`)).to.equal(true);
        const changed = lineChanges(instance, twinConf);
        const text = changed.map((c) => c.added ?? c.removed ?? "");
        const twinParameter = /^(load_module|pid|server |listen|ssl_certificate|proxy_pass (198\.18\.0\.10|127\.0\.0\.1):4242;|proxy_pass http:\/\/(198\.18\.0\.11|127\.0\.0\.1):8099\/healthz;|include (\/etc\/nginx|\/t)\/peer\/\*\.map;)/;
        expect(text.every((l) => twinParameter.test(l)), text.join("\n")).to.equal(true);
        expect(changed).to.deep.include({ added: "listen 10.251.9.21:11113 ssl;" });
        expect(changed).to.deep.include({ removed: "listen 11112 ssl;" });
        expect(changed).to.deep.include({ added: "listen 10.251.9.6:11112 ssl;" });
    });

    it("finds the instance's files in the config bundle (and in a cloud-config user data) exactly as rendered", () => {
        const params = { region: "eu-west-1", orthancImage: "orthancteam/orthanc:25.12.3", nginxImage: "nginx:1.28.0-alpine", orthanc: ORTHANC_PARAMS, secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } };
        const nginx = renderNginxConf({ orthancHost: ORTHANC_CONTAINER_ADDRESS, healthCheckerHost: HEALTHZ_CONTAINER_ADDRESS, certificatePath: "/etc/nginx/tls/server.crt", keyPath: "/etc/nginx/tls/server.key" });
        for (const files of [bootstrapFromBundle(renderBundle(renderBootstrapFiles(params))), bootstrapFromUserData(renderUserData(params))]) {
            expect(files.orthancTemplate).to.deep.equal(rendered);
            expect(files.nginxConf).to.equal(nginx);
            expect(files.healthChecker).to.equal(renderHealthChecker());
            expect(files.databaseSetupSql).to.equal(renderDatabaseSetupSql());
            expect(files.startScript).to.equal(renderStartScript({ region: params.region, dir: BOOTSTRAP_DIR, secretArns: params.secretArns }));
        }
        // claim.sh keeps a slot's address: in the bundle, not in a manual boot's user data (that instance holds no slot).
        expect(bootstrapFromBundle(renderBundle(renderBootstrapFiles(params))).claimScript).to.equal(renderClaimScript({ region: params.region }));
        expect(bootstrapFromUserData(renderUserData(params)).claimScript).to.equal(undefined);
    });

    it("takes the program's files from the one config bundle the instances apply", async () => {
        const { bootstrap, applyDocument } = await fromProgram();
        expect(bootstrap.orthancTemplate.DicomAet).to.be.a("string");
        expect(bootstrap.nginxConf).to.include("/healthz");
        expect(bootstrap.claimScript).to.include("keeps this slot's address");
        expect(secretsFilter(bootstrap.startScript)).to.equal(SECRETS_FILTER);
        // The apply script as the SSM document carries it, with the parameters SSM fills in and their patterns.
        expect(applyDocument.script).to.equal(applyDocumentFrom([{ type: SSM_DOCUMENT_TYPE, name: "d", custom: true, inputs: { content: renderApplyDocument() }, state: {}, id: "d" }]).script);
        expect(Object.keys(applyDocument.patterns)).to.include.members(["region", "bucket", "bundleKey", "project", "stack", "mode"]);
        expect(() => bootstrapFromRegistrations([])).to.throw(/registered 0 config bundles/);
    });
});

describe("local twin: the program's files, re-pointed by checked substitutions", () => {
    const params = { region: "eu-west-1", orthancImage: "orthancteam/orthanc:25.12.3", nginxImage: "nginx:1.28.0-alpine", orthanc: ORTHANC_PARAMS, secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } };
    const files = { certificatePath: "/t/server.crt", keyPath: "/t/server.key", pidPath: "/t/nginx.pid", peerListenAddress: "10.251.9.21", peerMapGlob: "/t/peer/*.map", peerTls: { certificatePath: "/t/peer.crt", keyPath: "/t/peer.key", caPath: "/t/peer-ca.crt" } };

    it("turns the instance's nginx.conf into exactly what the renderer gives with the twin's parameters", () => {
        const plain = bootstrapFromBundle(renderBundle(renderBootstrapFiles(params))).nginxConf;
        expect(substitute("nginx.conf", plain, nginxSubstitutions(files))).to.equal(renderNginxConf({ orthancHost: "127.0.0.1", ...files }));
        // With client certificates and the sender gate: their paths too.
        const senders = { ...params, dicomClientCertificates: true, orthanc: { ...ORTHANC_PARAMS, modalities: [{ name: "ct-1", aet: "CT_1" }] } };
        const gated = bootstrapFromBundle(renderBundle(renderBootstrapFiles(senders))).nginxConf;
        const withGate = { ...files, dicomClientCaPath: "/t/modalities-ca.crt", dicomSenderGatePath: "/t/dicom-senders.js" };
        expect(substitute("nginx.conf", gated, nginxSubstitutions(withGate))).to.equal(renderNginxConf({ orthancHost: "127.0.0.1", ...withGate }));
        // A file without the gate must not hold its path either (each substitution counts, also 0).
        expect(() => substitute("nginx.conf", plain, nginxSubstitutions(withGate))).to.throw(SubstitutionError, /"the modalities' CA" expects 1 match/);
    });

    it("stops, naming the substitution, when the program's file holds what it re-points more or fewer times than expected", () => {
        const plain = bootstrapFromBundle(renderBundle(renderBootstrapFiles(params))).nginxConf;
        const changed = plain.replace("ssl_certificate /etc/nginx/tls/server.crt;", "ssl_certificate /etc/nginx/tls/other.crt;");
        expect(() => substitute("nginx.conf", changed, nginxSubstitutions(files))).to.throw(SubstitutionError, /nginx\.conf: the twin's substitution "the server certificate" expects 2 match\(es\) of \/etc\/nginx\/tls\/server\.crt in the program's file, found 1/);
        expect(describeSubstitutions(nginxSubstitutions(files)).every((l) => /: .+ -> .+ \(x\d+\): \S/.test(l))).to.equal(true);
    });

    it("runs the SSM document's apply script as SSM would, re-pointed at a twin instance: as if rendered with the twin's values", () => {
        const doc = applyDocumentFrom([{ type: SSM_DOCUMENT_TYPE, name: "orthanc-apply", custom: true, inputs: { content: renderApplyDocument() }, state: {}, id: "d" }]);
        const bundleKey = `config/${"a".repeat(64)}.json`;
        const run = { region: "eu-west-1", bucket: "twin", bundleKey, project: "orthweb", stack: "twin", mode: "gate" as const, dir: "/t/i-1/opt", lockFile: "/t/i-1/apply.lock" };
        expect(substitute("apply", doc.script, applySubstitutions(run, doc.patterns))).to.equal(
            renderApplyScript({ region: run.region, bucket: run.bucket, bundleKey, tagFilters: { project: run.project, stack: run.stack }, mode: run.mode, dir: run.dir, lockFile: run.lockFile }),
        );
        // SSM checks each parameter against the document's pattern first: the twin refuses what SSM would.
        expect(() => applySubstitutions({ ...run, bundleKey: "config/x.json" }, doc.patterns)).to.throw(SubstitutionError, /parameter bundleKey: SSM would refuse "config\/x\.json"/);
        expect(() => applySubstitutions({ ...run, dir: "/t/it's" }, doc.patterns)).to.throw(SubstitutionError, /holds a quote/);
        expect(() => applySubstitutions({ ...run, lockFile: "/t/it's" }, doc.patterns)).to.throw(SubstitutionError, /holds a quote/);
    });

    it("runs the program's acme.sh with Debian's lego and the twin's reload, changing only the lines it names", () => {
        const rendered = renderAcmeScript({
            region: "eu-west-1", dir: BOOTSTRAP_DIR, bucket: "b", secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s", email: "pki@example.org",
            directoryUrl: "https://10.251.9.101:14000/dir", hostedZoneId: "Z0ZONE", names: ["pacs.example.org"], legoImage: "r.example/goacme/lego:v4.21.0", registry: "r.example",
        });
        const twin = substitute("acme.sh", rendered, acmeSubstitutions({ dir: "/t/acme-1", legoCommand: ["lego"], reloadCommand: ["sh", "-c", "exec nginx -s reload"] }));
        expect(lineChanges(rendered, twin).filter((c) => c.added !== undefined).map((c) => c.added)).to.deep.equal([
            "readonly DIR='/t/acme-1'",
            "readonly REGISTRY=''",
            "readonly LEGO=('lego')",
            'readonly LEGO_PATH="$STATE/lego"',
            "readonly RELOAD=('sh' '-c' 'exec nginx -s reload')",
        ]);
        expect(twin).to.not.match(/^[^#]*docker (run|compose)/m);
    });

    it("takes acme.sh and the role's Route 53 statement from the prod stack with a dns front door and acme from the twin's CA", async () => {
        const acme = await acmeFromProgram({ zoneName: "example.org", recordName: "pacs", email: "pki@example.org", directoryUrl: "https://10.251.9.101:14000/dir" });
        expect(acme.script).to.include("\nreadonly DIRECTORY='https://10.251.9.101:14000/dir'\n");
        expect(acme.script).to.include("\nreadonly NAMES=('pacs.example.org')\n");
        expect(acme.changeStatement.Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]).to.deep.equal(["_acme-challenge.pacs.example.org"]);
        // The twin's substitutions hold for the script the program delivers (each matches as often as expected).
        expect(substitute("acme.sh", acme.script, acmeSubstitutions({ dir: "/t/a", legoCommand: ["lego"], reloadCommand: ["true"] }))).to.include("\nreadonly LEGO=('lego')\n");
        const refused = await acmeFromProgram({ zoneName: "example.org", recordName: "pacs", email: "pki@example.org", directoryUrl: "http://10.251.9.101/dir" }).catch((e: Error) => e);
        expect(refused).to.be.instanceOf(ProgramInputError);
        expect((refused as Error).message).to.match(/the program rejects the prod stack with .*orthweb:tls/);
    });

    it("runs the health checker with compose's command, re-pointing only the flags it names", () => {
        const command = ["python3", "/opt/orthweb/healthz.py", "--listen", "0.0.0.0:8099", "--orthanc", "http://orthanc:8042", "--timeout", "1.5"];
        const { command: twin, substitutions } = withFlagValues("compose", command, { python3: { to: "/t/healthz.py", why: "w" }, "--listen": { to: "127.0.0.1:8099", why: "w" } });
        expect(twin).to.deep.equal(["python3", "/t/healthz.py", "--listen", "127.0.0.1:8099", "--orthanc", "http://orthanc:8042", "--timeout", "1.5"]);
        expect(substitutions.map((s) => [s.from, s.to])).to.deep.equal([["/opt/orthweb/healthz.py", "/t/healthz.py"], ["0.0.0.0:8099", "127.0.0.1:8099"]]);
        expect(() => withFlagValues("compose", command, { "--credentials": { to: "/t/a", why: "w" } })).to.throw(SubstitutionError, /"--credentials" expects the flag once/);
    });
});

describe("local twin: clients and HAProxy states", () => {
    it("sends with anonymous TLS, verifying the server's certificate, to the program's AE title", () => {
        const args = storescuArgs({ host: "10.251.9.2", port: 11112, calledAet: "ORTHANC", caPath: "/t/ca.pem" }, "/t/1.dcm");
        expect(args.slice(0, 3)).to.deep.equal(["+tla", "+cf", "/t/ca.pem"]);
        expect(args).not.to.include("-ic");
        expect(args.join(" ")).to.contain("-aec ORTHANC 10.251.9.2 11112 /t/1.dcm");
    });

    it("counts a C-STORE as acknowledged only on exit 0 with a Success response", () => {
        expect(acknowledged(0, "I: Received Store Response (Success)\n")).to.equal(true);
        expect(acknowledged(0, "E: Association Request Failed\n")).to.equal(false);
        expect(acknowledged(1, "I: Received Store Response (Success)\n")).to.equal(false);
    });

    it("reads server states from HAProxy's stats CSV; a server with one failed check still takes connections", () => {
        const csv = [
            "# pxname,svname,qcur,status,check_status,stot,",
            "lb-dicom,FRONTEND,,OPEN,,12,",
            "lb-dicom,orthanc-1,0,UP 1/2,L7STS,5,",
            "lb-dicom,orthanc-2,0,DOWN 1/3,L7OK,7,",
            "lb-dicom,BACKEND,0,UP,,12,",
            "twin-stats,FRONTEND,,OPEN,,1,",
        ].join("\n");
        const states = parseStatsCsv(csv);
        expect(states).to.deep.equal([
            { backend: "lb-dicom", server: "orthanc-1", status: "UP 1/2", checkStatus: "L7STS", sessions: 5 },
            { backend: "lb-dicom", server: "orthanc-2", status: "DOWN 1/3", checkStatus: "L7OK", sessions: 7 },
        ]);
        expect(states.map(routed)).to.deep.equal([true, false]);
    });
});

describe("local twin: its own network", () => {
    it("gives every namespace end its own address on /30 links of one /24, with device names Linux accepts", () => {
        const plan = addressPlan(77);
        const addresses = plan.links.flatMap((l) => [l.a.address, l.b.address]);
        expect(new Set(addresses).size).to.equal(addresses.length);
        expect(addresses.every((a) => a.startsWith("10.251.77.") && a.endsWith("/30"))).to.equal(true);
        expect(plan.links.flatMap((l) => [l.a.dev, l.b.dev]).every((d) => d.length <= 15)).to.equal(true);
        expect(plan.instances.map((i) => i.address)).to.deep.equal(["10.251.77.6", "10.251.77.10"]);
        expect(plan.links.filter((l) => l.a.ns === "host" || l.b.ns === "host")).to.have.length(1);
    });

    it("links the two instances to each other for the peer fallback, each end the instance's peer address", () => {
        const plan = addressPlan(77);
        const [one, two] = plan.instances;
        const between = plan.links.filter((l) => [l.a.ns, l.b.ns].sort().join() === [one.ns, two.ns].sort().join());
        expect(between).to.have.length(1);
        expect([between[0].a.address, between[0].b.address]).to.deep.equal([`${one.peerAddress}/30`, `${two.peerAddress}/30`]);
        expect(new Set(plan.instances.flatMap((i) => [i.address, i.databaseAddress, i.peerAddress])).size).to.equal(6);
    });

    it("picks a /24 no route or address of the machine overlaps, and gives up when the whole block is taken", () => {
        expect(pickSubnetNumber(["0.0.0.0/0", "192.0.2.0/24", "10.251.5.0/24", "10.251.6.1"], 5)).to.equal(7);
        expect(pickSubnetNumber([], 254)).to.equal(254);
        expect(() => pickSubnetNumber(["10.0.0.0/8"], 1)).to.throw(/no free \/24/);
    });

    it("leaves alone a subnet number whose namespaces exist (a run that is still going, or was not cleaned up)", () => {
        expect(pickSubnetNumber([], 5, ["otw5-lb", "other"])).to.equal(6);
    });

    it("lists every Debian package it installs for CI too", () => {
        const ci = fs.readFileSync(path.join(__dirname, "..", ".ci", "debian-packages.txt"), "utf8").split("\n").map((l) => l.trim());
        expect(TWIN_PACKAGES.filter((p) => !ci.includes(p))).to.deep.equal([]);
    });
});

describe("local twin: measurements and the summary line", () => {
    const a = (startS: number, ok: boolean): Attempt => ({ startMs: startS * 1000, endMs: startS * 1000 + 200, ok });

    it("measures the gap from the first failure to the first success after the last failure", () => {
        const attempts = [a(9, true), a(10.5, false), a(10.75, true), a(20, false), a(20.25, true), a(21, true)];
        const gap = failoverGap(attempts, 10_000, 60_000);
        expect(gap.seconds).to.be.closeTo(9.75, 1e-9);
        expect(gap.failures).to.equal(2);
        expect(gap.recovered).to.equal(true);
    });

    it("reports 0 when nothing failed, and a lower bound, not recovered, when nothing got through again", () => {
        expect(failoverGap([a(11, true)], 10_000, 60_000)).to.deep.equal({ failures: 0, seconds: 0, recovered: true });
        const stuck = failoverGap([a(11, false), a(15, false), a(16, false)], 10_000, 60_000);
        expect(stuck.recovered).to.equal(false);
        expect(stuck.seconds).to.equal(5);
    });

    it("counts as outside the failover only failures over before the kill or started after the restart, not those in flight at the kill", () => {
        const span = (startS: number, endS: number, ok: boolean): Attempt => ({ startMs: startS * 1000, endMs: endS * 1000, ok });
        // Killed at 10 s, back at 30 s: 9.9-10.4 was in flight when the instance died.
        const attempts = [span(5, 5.2, false), span(9.9, 10.4, false), span(12, 12.5, false), span(30, 30.2, false), span(31, 31.2, true)];
        expect(failuresOutside(attempts, 10_000, 30_000)).to.equal(2);
        expect(failuresOutside([span(9.9, 10.4, false)], 10_000, 30_000)).to.equal(0);
    });

    it("only looks at attempts started inside the window", () => {
        expect(failoverGap([a(5, false), a(70, false), a(11, true)], 10_000, 60_000).failures).to.equal(0);
    });

    const outcome = (over: Partial<Outcome>): Outcome => ({ stored: 271, lost: 0, retried: 38, gap: { failures: 3, seconds: 19.3, recovered: true }, modeledSeconds: 20, otherFailures: [], ...over });

    it("prints the summary line in the agreed format, the gap rounded up to a tenth", () => {
        expect(summaryLine(outcome({}))).to.equal("twin: 271 stored, 0 lost, 38 retried, failover gap 19.3s (modeled 20s)");
        expect(summaryLine(outcome({ gap: { failures: 1, seconds: 20.01, recovered: true } }))).to.contain("failover gap 20.1s");
        expect(summaryLine(outcome({ gap: { failures: 1, seconds: 45.2, recovered: false } }))).to.contain("failover gap >45.2s");
        expect(ceilTenth(19.96)).to.equal(20);
    });

    it("prints the scenarios' own lines: instance-kill with the first line's figures, orthanc-kill with what failed", () => {
        expect(instanceKillLine(outcome({ modeledSeconds: 10, gap: { failures: 3, seconds: 6.51, recovered: true } }))).to.equal(
            "twin instance-kill: 271 stored, 0 lost, 38 retried, failover gap 6.6s (modeled 10s)",
        );
        expect(orthancKillLine({ stored: 164, lost: 0, failed: 0 })).to.equal("twin orthanc-kill: 164 stored, 0 lost, 0 failed");
    });

    it("runs instance-kill and orthanc-kill, each under its own name", () => {
        expect(SCENARIOS.map((s) => s.name)).to.include.members(["instance-kill", "orthanc-kill"]);
        expect(MAX_MODELED_FAILOVER_SECONDS).to.equal(10);
    });

    it("passes only with nothing lost and a gap within the model", () => {
        expect(verdict(outcome({}))).to.deep.equal([]);
        expect(verdict(outcome({ lost: 1 }))[0]).to.match(/1 acknowledged or abandoned/);
        expect(verdict(outcome({ gap: { failures: 1, seconds: 20.04, recovered: true } }))[0]).to.match(/exceeds the modeled 20s/);
        expect(verdict(outcome({ gap: { failures: 1, seconds: 19.96, recovered: true } }))).to.deep.equal([]);
        expect(verdict(outcome({ gap: { failures: 1, seconds: 3, recovered: false } }))[0]).to.match(/never got through/);
        expect(verdict(outcome({ otherFailures: ["orthanc-1 did not rejoin"] }))).to.deep.equal(["orthanc-1 did not rejoin"]);
    });
});
