import { randomBytes } from "crypto";
import { expect } from "chai";
import { parse } from "yaml";
import { renderBootstrapFiles, renderCloudConfig, renderUserData, SLOT_FILES, USER_DATA_LIMIT_BYTES } from "../components/bootstrap";
import { userDataText } from "../rules/userData";
import { renderCompose } from "../components/bootstrap/compose";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { renderOrthancConfig, SECRET_PATHS, SECRETS_FILTER } from "../components/bootstrap/orthanc";
import { renderPeerScript } from "../components/bootstrap/peerScript";
import { renderApplyScript } from "../components/bootstrap/apply";
import { renderStartScript, shellQuote } from "../components/bootstrap/startScript";
import { SAMPLE } from "./fixtures";
import { HEALTH_CHECKER_PORT, HEALTH_PATH } from "../rules/ports";
import { HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../rules/containerNetwork";

const ORTHANC = ORTHANC_CONTAINER_ADDRESS.replace(/\./g, "\\.");

describe("instance bootstrap rendering", () => {
    describe("nginx.conf", () => {
        const conf = renderNginxConf({ orthancHost: ORTHANC_CONTAINER_ADDRESS, certificatePath: "/etc/nginx/tls/server.crt", keyPath: "/etc/nginx/tls/server.key" });

        it("terminates TLS on 443 (HTTP to Orthanc 8042) and on 11112 (stream to Orthanc DICOM 4242)", () => {
            expect(conf).to.match(/listen 443 ssl http2;/);
            expect(conf).to.match(/listen 11112 ssl;/);
            expect(conf).to.include(`server ${ORTHANC_CONTAINER_ADDRESS}:8042;`);
            expect(conf).to.include(`server ${ORTHANC_CONTAINER_ADDRESS}:4242 max_fails=0;`);
            expect(conf).to.match(/stream \{[\s\S]*proxy_pass orthanc_dicom;/);
        });

        it("offers TLS 1.2 and 1.3 only, on both ports and the peer hop (load balancer and Route 53 checks need 1.2)", () => {
            const protocols = conf.match(/^\s*(proxy_)?ssl_protocols .*$/gm) ?? [];
            expect(protocols.length).to.be.at.least(4);
            for (const line of protocols) expect(line.trim()).to.match(/ssl_protocols TLSv1\.2 TLSv1\.3;$/);
            expect(conf).to.not.match(/TLSv1(\.1)?[ ;]/);
        });

        describe("peer fallback", () => {
            const block = (start: string) => {
                const from = conf.indexOf(start);
                expect(from, start).to.be.at.least(0);
                let depth = 0;
                for (let i = conf.indexOf("{", from); i < conf.length; i++) {
                    if (conf[i] === "{") depth++;
                    if (conf[i] === "}" && --depth === 0) return conf.slice(from, i + 1);
                }
                throw new Error(`unclosed ${start}`);
            };
            const serverListening = (listen: string) => {
                const at = conf.indexOf(`listen ${listen}`);
                expect(at, listen).to.be.at.least(0);
                const from = conf.slice(0, at).lastIndexOf("server {");
                let depth = 0;
                for (let i = from + "server ".length; i < conf.length; i++) {
                    if (conf[i] === "{") depth++;
                    if (conf[i] === "}" && --depth === 0) return conf.slice(from, i + 1);
                }
                throw new Error(`unclosed server of ${listen}`);
            };

            it("sends clients' requests to the local Orthanc, with a loopback relay to the peer as the backup", () => {
                expect(block("upstream orthanc_web_or_peer")).to.match(new RegExp(`server ${ORTHANC}:8042 max_fails=0;\\s+server 127\\.0\\.0\\.1:18042 backup;`));
                // One failed request on the local Orthanc must not disable it (nginx's default: 1 failure, 10 s),
                // and no idle upstream connection is kept for Orthanc to close under a request.
                expect(block("upstream orthanc_web_or_peer")).to.not.include("keepalive");
                expect(conf.slice(conf.indexOf("location / {"))).to.match(/^location \/ \{\s+proxy_pass http:\/\/orthanc_web_or_peer;/);
                expect(block("upstream orthanc_dicom {")).to.match(new RegExp(`server ${ORTHANC}:4242 max_fails=0;\\s+server 127\\.0\\.0\\.1:14242 backup;`));
                expect(serverListening("11112 ssl")).to.include("proxy_pass orthanc_dicom;");
            });

            it("never lets /healthz reach the peer: it reports this instance's Orthanc", () => {
                expect(block(`location = ${HEALTH_PATH}`)).to.include(`proxy_pass http://${ORTHANC_CONTAINER_ADDRESS}:${HEALTH_CHECKER_PORT}${HEALTH_PATH};`).and.not.include("orthanc_web_or_peer");
                expect(block("upstream orthanc_web {")).to.not.include("backup");
            });

            it("relays on loopback only, over TLS, to the peer's peer-only ports; without a known peer, as without a fallback", () => {
                const web = serverListening("127.0.0.1:18042;");
                expect(web).to.include("proxy_pass https://$orthweb_peer:8443;");
                expect(web).to.match(/if \(\$orthweb_peer = ""\) \{\s+return 502;/);
                const dicom = serverListening("127.0.0.1:14242;");
                expect(dicom).to.include("proxy_pass $orthweb_peer:11113;");
                expect(dicom).to.include("proxy_ssl on;");
                const maps = conf.match(/map "peer" \$orthweb_peer \{\s+default "";\s+include \/etc\/nginx\/peer\/\*\.map;\s+\}/g);
                expect(maps, "one map in http, one in stream").to.have.length(2);
            });

            it("serves the peer-only ports with TLS, to the local Orthanc only, so nothing bounces back", () => {
                const web = serverListening("8443 ssl;");
                expect(web).to.include("proxy_pass http://orthanc_web;");
                expect(web).to.include("ssl_certificate /etc/nginx/tls/peer.crt;");
                const dicom = serverListening("11113 ssl;");
                expect(dicom).to.include(`proxy_pass ${ORTHANC_CONTAINER_ADDRESS}:4242;`);
            });

            it("binds the peer-only ports and reads the map where the local twin says", () => {
                const twin = renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: "/c", keyPath: "/k", listenAddress: "10.200.0.2", peerListenAddress: "10.200.0.21", peerMapGlob: "/tmp/p/*.map" });
                expect(twin).to.include("listen 10.200.0.21:8443 ssl;");
                expect(twin).to.include("listen 10.200.0.21:11113 ssl;");
                expect(twin).to.include("listen 127.0.0.1:18042;");
                expect(twin).to.include("include /tmp/p/*.map;");
            });
        });

        it("answers /healthz from the health checker on the instance, holding no credential and forwarding none", () => {
            const health = conf.slice(conf.indexOf(`location = ${HEALTH_PATH}`), conf.indexOf("location / {"));
            expect(health).to.include(`proxy_pass http://${ORTHANC_CONTAINER_ADDRESS}:${HEALTH_CHECKER_PORT}${HEALTH_PATH};`);
            expect(health).to.match(/proxy_set_header Authorization "";/);
            expect(conf).to.not.match(/Basic |@orthanc_answered|error_page 401/);
            // Route 53 gives a target 2 s to answer.
            expect(health).to.match(/proxy_read_timeout 2s;/);
            expect(renderNginxConf({ orthancHost: ORTHANC_CONTAINER_ADDRESS, healthCheckerHost: HEALTHZ_CONTAINER_ADDRESS, certificatePath: "/c", keyPath: "/k" })).to.include(`proxy_pass http://${HEALTHZ_CONTAINER_ADDRESS}:${HEALTH_CHECKER_PORT}${HEALTH_PATH};`);
        });

        it("binds a given address and pid file for the local twin", () => {
            const twin = renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: "/c", keyPath: "/k", listenAddress: "10.200.0.2", pidPath: "/tmp/a.pid" });
            expect(twin).to.include("listen 10.200.0.2:443 ssl http2;");
            expect(twin).to.include("listen 10.200.0.2:11112 ssl;");
            expect(twin).to.include("pid /tmp/a.pid;");
        });
    });

    describe("orthanc.json", () => {
        const config = renderOrthancConfig(SAMPLE.orthanc) as Record<string, any>;

        it("uses the shared PostgreSQL index over TLS without the single-writer lock", () => {
            expect(config.PostgreSQL).to.include({ EnableIndex: true, EnableStorage: false, Host: SAMPLE.orthanc.database.host, Port: 5432, Database: "orthanc", EnableSsl: true, Lock: false });
        });

        it("stores DICOM files in the S3 bucket and answers with the configured AE title", () => {
            expect(config.AwsS3Storage).to.include({ BucketName: "orthanc-bucket-123", Region: "eu-west-1" });
            expect(config.DicomAet).to.equal("ORTHANC");
            expect(config.DicomPort).to.equal(4242);
            expect(config.HttpPort).to.equal(8042);
        });

        it("has authentication on, and no secret in it: logins are blanks the start script fills", () => {
            expect(config.AuthenticationEnabled).to.equal(true);
            expect(config.RegisteredUsers).to.deep.equal({ admin: "", healthz: "" });
            expect(config.PostgreSQL).to.not.have.any.keys("Username", "Password", "ConnectionUri");
        });

        it("names, for the start script, the keys that hold secrets: blank logins, and the ConnectionUri it adds", () => {
            const get = (path: string) => path.slice(1).split(".").reduce((o: any, k) => o?.[k], config);
            expect(get(SECRET_PATHS.adminPassword)).to.equal("");
            expect(get(SECRET_PATHS.healthPassword)).to.equal("");
            expect(get(SECRET_PATHS.databaseUri)).to.equal(undefined);
        });
    });

    describe("docker-compose.yml", () => {
        const doc = parse(renderCompose({ orthancImage: "o:1", nginxImage: "n:1", dir: "/opt/orthweb", region: "eu-west-1" }));

        it("publishes only nginx's 443 and 11112, and the peer-only 8443 and 11113; Orthanc stays on the compose network", () => {
            expect(doc.services.nginx.ports).to.deep.equal(["443:443", "11112:11112", "8443:8443", "11113:11113"]);
            expect(doc.services.orthanc.ports).to.equal(undefined);
        });

        it("runs the health checker with the Orthanc image, its script and its login mounted read-only, and nothing published", () => {
            const hz = doc.services.healthz;
            expect(hz.image).to.equal("o:1");
            expect(hz.entrypoint).to.deep.equal(["python3", "/opt/orthweb/healthz.py"]);
            expect(hz.command).to.include.members(["--orthanc", "http://orthanc:8042", "--credentials", "/run/orthweb/healthz.auth"]);
            expect(hz.volumes).to.deep.equal(["/opt/orthweb/healthz.py:/opt/orthweb/healthz.py:ro", "/opt/orthweb/run/healthz.auth:/run/orthweb/healthz.auth:ro"]);
            expect(hz.ports).to.equal(undefined);
            // nginx names the checker by its pinned address and waits for nothing (tests/instanceRuntime.spec.ts).
            expect(doc.services.nginx.depends_on).to.equal(undefined);
            // nginx gets no login of any kind.
            expect(doc.services.nginx.volumes.some((v: string) => v.includes("healthz"))).to.equal(false);
        });

        it("runs the pinned images, restarts them, and mounts the files the start script writes", () => {
            expect(doc.services.orthanc.image).to.equal("o:1");
            expect(doc.services.nginx.image).to.equal("n:1");
            expect(doc.services.orthanc.restart).to.equal("unless-stopped");
            expect(doc.services.orthanc.volumes).to.deep.equal(["/opt/orthweb/run/orthanc.json:/etc/orthanc/orthanc.json:ro"]);
            expect(doc.services.nginx.volumes).to.include("/opt/orthweb/run/tls:/etc/nginx/tls:ro");
            expect(doc.services.nginx.volumes).to.include("/opt/orthweb/run/peer:/etc/nginx/peer:ro");
        });
    });

    describe("start script", () => {
        const script = renderStartScript({ region: "eu-west-1", dir: "/opt/orthweb", secretArns: SAMPLE.secretArns });

        it("reads the three secrets from Secrets Manager at run time", () => {
            for (const arn of Object.values(SAMPLE.secretArns)) expect(script).to.include(shellQuote(arn));
            expect(script).to.match(/aws secretsmanager get-secret-value --region "\$REGION" --secret-id "\$1"/);
        });

        it("fills the secrets into orthanc.json with jq, running SECRETS_FILTER as rendered, as Orthanc's own login", () => {
            expect(script).to.include(shellQuote(SECRETS_FILTER));
            for (const path of Object.values(SECRET_PATHS)) expect(SECRETS_FILTER).to.include(`${path} = `);
            expect(script).to.match(/--arg user "\$DB_APP_USER"/);
            // The secrets reach jq through pipes: an --arg would put them in jq's argv, readable in /proc by anyone.
            for (const [name, variable] of [["password", "db_app"], ["admin", "admin_password"], ["health", "health"]]) {
                expect(script).to.include(`--rawfile ${name} <(printf '%s' "$${variable}")`);
                expect(script).to.not.include(`--arg ${name} `);
            }
            expect(script).to.include(`readonly DB_APP_USER='orthanc_app'`);
            expect(script).to.include("umask 077");
        });

        it("makes Orthanc's database login with the master login from the environment, never on a command line", () => {
            expect(script).to.match(/PGUSER="\$1" PGPASSWORD="\$2"/);
            expect(script).to.match(/PGSSLMODE=require/);
            expect(script).to.match(/ORTHWEB_DB_APP_PASSWORD="\$app_password" psql_as "\$\(jq -r \.username <<<"\$master"\)" "\$\(jq -r \.password <<<"\$master"\)"/);
            expect(script).to.not.match(/-v app_password=/);
            // The master is used only when the check as Orthanc's own login fails (tests/system/databaseSetup.spec.ts runs both).
            expect(script).to.match(/if psql_as "\$DB_APP_USER" "\$app_password" -v check=1 -f "\$DIR\/database-setup.sql" 2>\/dev\/null; then return 0; fi/);
            expect(script).to.match(/retry setup_database "\$db" "\$db_app"/);
        });

        it("retries dnf, the compose download, the registry login and the pulls with backoff", () => {
            expect(script).to.match(/retry dnf install -y docker jq postgresql15/);
            expect(script).to.match(/retry download_compose/);
            expect(script).to.match(/retry "\$\{compose\[@\]\}" up --detach --remove-orphans --pull missing/);
            expect(script).to.match(/delay=\$\(\(delay \* 2 > 60 \? 60 : delay \* 2\)\)/);
        });

        it("never logs a retried command's arguments (setup_database gets the logins as arguments)", () => {
            const retry = script.slice(script.indexOf("retry() {"), script.indexOf("\n}\n", script.indexOf("retry() {")));
            expect(retry).to.not.match(/\$\*|\$@"?\s*$|log[^\n]*\$@/m);
            expect(retry).to.match(/log "\$1 failed/);
        });

        it("makes the health checker's login on the instance, once, and restarts the checker when it changes", () => {
            expect(script).to.match(/head -c 48 \/dev\/urandom/);
            expect(script).to.match(/replace_file "\$DIR\/run\/healthz.auth" 0600/);
            expect(script).to.match(/if \[ -n "\$health_changed" \]; then .* restart healthz; fi/);
        });

        it("verifies the compose plugin download against its published checksum", () => {
            expect(script).to.match(/sha256sum --check/);
        });

        it("restarts the containers whose inputs changed (rotated database password, renewed certificate)", () => {
            expect(script).to.match(/if \[ -n "\$orthanc_changed" \]; then .* restart orthanc; fi/);
            // A certificate needs no restart: nginx -s reload lets open connections finish (a restart only if that fails).
            expect(script).to.match(/if \[ -n "\$tls_changed" \]; then "\$\{compose\[@\]\}" exec -T nginx nginx -s reload \|\| "\$\{compose\[@\]\}" restart nginx; fi/);
        });

        it("quotes every value so nothing in it is interpreted by bash", () => {
            expect(shellQuote("it's $HOME")).to.equal(`'it'\\''s $HOME'`);
        });
    });

    describe("peer script", () => {
        const script = renderPeerScript({ region: "eu-west-1", dir: "/opt/orthweb" });

        it("finds a running instance of the other slot in its own VPC and security group through IMDSv2 and the EC2 API", () => {
            expect(script).to.include('-X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token');
            expect(script).to.include('"Name=vpc-id,Values=$vpc"');
            expect(script).to.match(/"Name=instance\.group-id,Values=\$\(paste -sd, - <<<"\$sgs"\)"/);
            expect(script).to.include('"Name=instance-state-name,Values=running"');
            expect(script).to.include(`--query "Reservations[].Instances[?InstanceId!='$self' && !(Tags[?Key=='orthweb:slot' && Value=='$slot'])].PrivateIpAddress"`);
            expect(script).to.not.match(/\b10\.\d+\.\d+\.\d+\b/);
        });

        it("writes only a checked IPv4 address to the map nginx reads, keeps it when the lookup fails, and reloads nginx on a change", () => {
            expect(script).to.include(`readonly MAP="$DIR/run/peer/peer.map"`);
            expect(script).to.include("grep -E '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$'");
            expect(script).to.match(/if ! peer=\$\(find_peer\); then[\s\S]*?return 0/);
            expect(script).to.include('want="peer $peer;"');
            expect(script).to.include("kill --signal HUP nginx");
        });
    });

    describe("cloud-config user data", () => {
        const userData = renderUserData(SAMPLE);
        const doc = parse(userDataText(userData));

        it("is a gzip-compressed #cloud-config that writes every file and starts the service and its timer", () => {
            expect([...userData.subarray(0, 2)], "gzip's magic bytes, which cloud-init recognises").to.deep.equal([0x1f, 0x8b]);
            expect(userDataText(userData).startsWith("#cloud-config\n")).to.equal(true);
            expect(doc.write_files.map((f: { path: string }) => f.path)).to.deep.equal([
                "/opt/orthweb/docker-compose.yml",
                "/opt/orthweb/nginx.conf",
                "/opt/orthweb/orthanc.template.json",
                "/opt/orthweb/start.sh",
                "/opt/orthweb/healthz.py",
                "/opt/orthweb/database-setup.sql",
                "/etc/systemd/system/orthweb.service",
                "/etc/systemd/system/orthweb.timer",
                "/opt/orthweb/metadata-guard.sh",
                "/etc/systemd/system/docker.service.d/orthweb-metadata-guard.conf",
                "/opt/orthweb/peer.sh",
                "/etc/systemd/system/orthweb-peer.service",
                "/etc/systemd/system/orthweb-peer.timer",
            ]);
            expect(doc.runcmd).to.deep.include(["systemctl", "enable", "--now", "orthweb.timer", "orthweb-peer.timer"]);
            expect(doc.runcmd).to.deep.include(["systemctl", "start", "orthweb.service"]);
        });

        it("retries the start script within a minute after a failure, bounds a run, and re-runs it every 15 minutes", () => {
            const files = Object.fromEntries(renderBootstrapFiles(SAMPLE).map((f) => [f.path, f.content]));
            const unit = files["/etc/systemd/system/orthweb.service"];
            expect(unit).to.match(/^Type=oneshot$/m);
            expect(unit).to.match(/^TimeoutStartSec=20min$/m);
            expect(unit).to.match(/^Restart=on-failure$/m);
            expect(unit).to.match(/^RestartSec=30s$/m);
            // No start rate limit: a boot that keeps failing keeps being retried.
            expect(unit.slice(0, unit.indexOf("[Service]"))).to.match(/^StartLimitIntervalSec=0$/m);
            const timer = files["/etc/systemd/system/orthweb.timer"];
            expect(timer).to.match(/^OnUnitActiveSec=15min$/m);
            expect(timer).to.not.match(/1h/);
        });

        it("keeps file contents byte for byte (YAML block scalars do not eat them), and leaves out the slot's files", () => {
            for (const f of renderBootstrapFiles(SAMPLE).filter((f) => !SLOT_FILES.includes(f.path))) {
                expect(doc.write_files.find((w: { path: string }) => w.path === f.path)?.content, f.path).to.equal(f.content);
            }
            // An instance booted by hand holds no slot: no claim script, and no timer for it in runcmd.
            expect(doc.write_files.map((w: { path: string }) => w.path)).to.not.include.members([...SLOT_FILES]);
            expect(JSON.stringify(doc.runcmd)).to.not.include("orthweb-claim");
            expect(JSON.stringify(doc.runcmd)).to.include("orthweb-peer.timer");
        });

        it("fits EC2's 16 KB user-data limit (for a manual boot: the program delivers the bundle), and refuses to exceed it", () => {
            expect(userData.length).to.be.lessThan(USER_DATA_LIMIT_BYTES);
            // Random text: gzip cannot shrink it below the limit.
            const huge = { ...SAMPLE, orthanc: { ...SAMPLE.orthanc, name: randomBytes(USER_DATA_LIMIT_BYTES).toString("hex") } };
            expect(() => renderUserData(huge)).to.throw(/16384/);
        });

        it("makes only the start and peer scripts executable and keeps the template private", () => {
            const modes = Object.fromEntries(doc.write_files.map((f: { path: string; permissions: string }) => [f.path, f.permissions]));
            expect(modes["/opt/orthweb/start.sh"]).to.equal("0700");
            expect(modes["/opt/orthweb/peer.sh"]).to.equal("0700");
            expect(modes["/opt/orthweb/orthanc.template.json"]).to.equal("0600");
            expect(renderCloudConfig([])).to.match(/^#cloud-config\nwrite_files: \[\]/);
        });
    });
});

describe("the instance scripts never read a failed lookup as an empty answer", () => {
    const scripts: [string, string][] = [
        ...renderBootstrapFiles(SAMPLE)
            .filter((f) => f.path.endsWith(".sh"))
            .map((f): [string, string] => [f.path, f.content]),
        ["apply.sh", renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "p", stack: "s" } })],
    ];

    it("stops on a failing command substitution (inherit_errexit) wherever set -e is the error handling", () => {
        // peer.sh checks every step itself (|| return 1) and never fails the timer; the guard script has no substitution.
        const errexit = scripts.filter(([name]) => !/peer\.sh$|metadata-guard/.test(name));
        expect(errexit.map(([name]) => name)).to.include.members(["/opt/orthweb/start.sh", "/opt/orthweb/claim.sh", "apply.sh"]);
        for (const [name, text] of errexit) expect(text, name).to.match(/^set -euo pipefail\n(?:#.*\n)?shopt -s inherit_errexit$/m);
    });

    it("feeds no command substitution into a here-string or a for list, where its failure would be ignored", () => {
        for (const [name, text] of scripts) {
            expect(text, name).to.not.match(/<<<\s*"?\$\(/);
            expect(text, name).to.not.match(/\bfor \w+ in \$\((?!seq )/);
        }
    });
});
