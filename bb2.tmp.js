const c0=process.cpuUsage();
if (process.env.CC) require('/tmp/cc/compileCache.js');
require('./tests/transpileCache.js');
const {buildStack}=require('./plan/build.ts');
const {parseStackConfig}=require('./stacks/config.ts');
const {withConfig}=require('./tests/harness.ts');
(async()=>{
 const cfg = parseStackConfig(withConfig({'orthweb:environment':'prod','orthweb:network': {webClientCidrs:['198.51.100.0/24'],dicomClientCidrs:['198.51.100.0/24']}, 'orthweb:traffic': {frontDoor:'loadBalancer', loadBalancer: {type:'network'}}}));
 for (let i=0;i<3;i++) await buildStack('warm'+i,cfg);
 const c=process.cpuUsage(c0); console.log('load+3 builds', (c.user+c.system)/1000|0,'ms');
})().catch(e=>console.error(e));
