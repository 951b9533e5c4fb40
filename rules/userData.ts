// EC2 user data as cloud-init reads it. Pure.
import { gunzipSync } from "zlib";

/** User data as cloud-init reads it: gzip-compressed user data decompressed, anything else as it is. */
export function userDataText(userData: Buffer | string): string {
    const bytes = typeof userData === "string" ? Buffer.from(userData, "utf8") : userData;
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
}
