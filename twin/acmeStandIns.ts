// Stand-ins for what acme.sh talks to besides the CA and Route 53, for the specs and the twin: an `aws` that keeps the
// lock object, the acme secret and the published metric in files under $AWS_STATE (S3's conditional writes honoured
// under a lock, one at a time, as S3 applies them), and the metadata service's curl ($INSTANCE_ID).

/** The AWS CLI as acme.sh uses it; S3 operations serialised by flock, as S3 applies one conditional write at a time. */
export const AWS_STAND_IN = `#!/bin/bash
set -u
echo "aws $1 $2" >>"$AWS_STATE/calls"
svc=$1 op=$2; shift 2
arg() { local k=$1; shift; while [ $# -gt 0 ]; do if [ "$1" = "$k" ]; then echo "$2"; return 0; fi; shift; done; return 1; }
obj() { echo "$AWS_STATE/s3/$(arg --key "$@" | tr / _)"; }
etag() { echo "\\"$(md5sum <"$1" | cut -c1-32)\\""; }
case "$svc $op" in
  "s3api put-object")
    exec 9>"$AWS_STATE/s3.lock"; flock 9
    [ -z "\${AWS_S3_REFUSE:-}" ] || { echo "$AWS_S3_REFUSE" >&2; exit 252; }
    o=$(obj "$@"); body=$(arg --body "$@")
    if arg --if-none-match "$@" >/dev/null && [ -e "$o" ]; then echo "An error occurred (PreconditionFailed) when calling the PutObject operation" >&2; exit 254; fi
    if m=$(arg --if-match "$@") && { [ ! -e "$o" ] || [ "$(etag "$o")" != "$m" ]; }; then echo "An error occurred (PreconditionFailed) when calling the PutObject operation" >&2; exit 254; fi
    cp "$body" "$o.tmp" && mv "$o.tmp" "$o" ;;
  "s3api head-object")
    o=$(obj "$@"); [ -e "$o" ] || { echo "An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 254; }
    printf '%s\\t%s\\n' "$(etag "$o")" "$(date -u -r "$o" +%FT%T+00:00)" ;;
  "s3api delete-object") rm -f "$(obj "$@")" ;;
  "secretsmanager get-secret-value")
    [ -s "$AWS_STATE/secret" ] || { echo "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" >&2; exit 254; }
    [ -z "\${AWS_SECRETS_DOWN:-}" ] || { echo "Could not connect to the endpoint URL" >&2; exit 255; }
    cat "$AWS_STATE/secret" ;;
  "secretsmanager put-secret-value") f=$(arg --secret-string "$@"); cp "\${f#file://}" "$AWS_STATE/secret.tmp" && mv "$AWS_STATE/secret.tmp" "$AWS_STATE/secret" ;;
  "ec2 describe-tags") echo "$SLOT" ;;
  "cloudwatch put-metric-data") echo "$(arg --dimensions "$@") $(arg --value "$@")" >>"$AWS_STATE/metrics" ;;
  *) echo "aws stand-in: $svc $op not modelled" >&2; exit 2 ;;
esac
`;

export const METADATA_STAND_IN = `#!/bin/bash
case "$*" in *api/token*) echo token ;; *instance-id*) echo "$INSTANCE_ID" ;; *) exit 22 ;; esac
`;

