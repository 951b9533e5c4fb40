// sucrase/register/ts with a disk cache: the test processes (mocha's main process and each worker) transpile every
// TypeScript file they load, about a second of CPU each; a file whose text has not changed since the last run is
// read back instead. Keyed by sucrase's version, the file's path and its text, so an edit or an upgrade misses.
// Plain JavaScript: it is what loads TypeScript.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const pirates = require("pirates");
const { getVersion, transform } = require("sucrase");

const CACHE_DIR = path.join(os.tmpdir(), `orthweb-sucrase-${getVersion()}-${process.getuid ? process.getuid() : "u"}`);
const OPTIONS = { transforms: ["imports", "typescript"] };

function transpile(code, filePath) {
    const { code: js, sourceMap } = transform(code, { ...OPTIONS, sourceMapOptions: { compiledFilename: filePath }, filePath });
    return `${js}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(sourceMap)).toString("base64")}`;
}

function cached(code, filePath) {
    const key = crypto.createHash("sha256").update(filePath).update("\0").update(code).digest("hex");
    const file = path.join(CACHE_DIR, `${key}.js`);
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        const js = transpile(code, filePath);
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            // Written aside and renamed: a worker reading it at the same moment sees all of it or nothing.
            const tmp = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, js);
            fs.renameSync(tmp, file);
        } catch {
            // A cache that cannot be written only costs the next run the transpile.
        }
        return js;
    }
}

pirates.addHook(cached, { exts: [".ts"] });
