const t0=Date.now(); const c0=process.cpuUsage();
if (process.env.CC) require('/tmp/cc/compileCache.js');
require('./tests/transpileCache.js');
global.describe=()=>{};global.it=()=>{};global.before=()=>{};global.after=()=>{};global.beforeEach=()=>{};global.afterEach=()=>{};
const fs=require('fs');
for (const f of fs.readdirSync('tests').filter(f=>f.endsWith('.spec.ts'))) require('./tests/'+f);
const c=process.cpuUsage(c0);
console.log('load', Date.now()-t0, 'ms wall', ((c.user+c.system)/1000|0), 'ms cpu');
