// Least privilege inside the instance: only Orthanc's container may reach the instance metadata service (IMDS).
// With IMDSv2 and hop limit 2 every container on a Docker bridge could fetch the instance role's credentials, and
// the role reads the secrets and every study; nginx, which faces the network, needs none of it. A chain of ours,
// jumped to from DOCKER-USER (which Docker evaluates first on forwarded traffic and never flushes), lets Orthanc's
// fixed address through and rejects every other container's packets to IMDS. Pure renderers; the start script and
// a docker.service drop-in run the guard (before dockerd restarts containers at boot, and on every run).
import { CONTAINER_BRIDGE, ORTHANC_CONTAINER_ADDRESS } from "../../rules/containerNetwork";

export const METADATA_ADDRESS = "169.254.169.254";
export const METADATA_CHAIN = "ORTHWEB-IMDS";
export const METADATA_GUARD_FILE = "metadata-guard.sh";
/** Runs the guard before dockerd starts (and restarts the containers) at every boot. */
export const DOCKER_DROP_IN_PATH = "/etc/systemd/system/docker.service.d/orthweb-metadata-guard.conf";

/** iptables-restore input (with --noflush: replaces our chain's rules, touches nothing else). */
export function renderMetadataRules(): string {
    return [
        "*filter",
        `:${METADATA_CHAIN} - [0:0]`,
        `-A ${METADATA_CHAIN} -s ${ORTHANC_CONTAINER_ADDRESS}/32 -i ${CONTAINER_BRIDGE} -d ${METADATA_ADDRESS}/32 -j RETURN`,
        `-A ${METADATA_CHAIN} -d ${METADATA_ADDRESS}/32 -j REJECT --reject-with icmp-port-unreachable`,
        "COMMIT",
        "",
    ].join("\n");
}

/** The guard script: idempotent, so boot, every timer run and a docker restart may all run it. */
export function renderMetadataGuard(): string {
    return `#!/bin/bash
# Rendered by orthweb. Only Orthanc's container (${ORTHANC_CONTAINER_ADDRESS} on ${CONTAINER_BRIDGE}) may reach the
# instance metadata service; every other container (nginx) gets its packets to ${METADATA_ADDRESS} rejected.
set -euo pipefail

# Docker creates DOCKER-USER too, and keeps what is in it; creating it first closes the gap at boot.
iptables -w -N DOCKER-USER 2>/dev/null || true
iptables-restore -w --noflush <<'RULES'
${renderMetadataRules().trimEnd()}
RULES
if ! iptables -w -C DOCKER-USER -j ${METADATA_CHAIN} 2>/dev/null; then
    iptables -w -I DOCKER-USER 1 -j ${METADATA_CHAIN}
fi
`;
}

export function renderDockerDropIn(dir: string): string {
    return `[Service]\nExecStartPre=${dir}/${METADATA_GUARD_FILE}\n`;
}
