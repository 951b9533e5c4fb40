require('./tests/transpileCache.js');
const {buildStack: buildUnderMocks}=require('./plan/build.ts');
const {parseStackConfig}=require('./stacks/config.ts');
const {withConfig}=require('./tests/harness.ts');
(async()=>{
 const cfg = parseStackConfig(withConfig({'orthweb:environment':'prod','orthweb:network': {webClientCidrs:['198.51.100.0/24'],dicomClientCidrs:['198.51.100.0/24']}, 'orthweb:traffic': {frontDoor:'loadBalancer', loadBalancer: {type:'network'}}}));
 for (let i=0;i<5;i++) await buildUnderMocks('warm'+i,cfg);
 const t=process.cpuUsage(); const N=+process.argv[2]||20;
 for (let i=0;i<N;i++) await buildUnderMocks('s'+i,cfg);
 const c=process.cpuUsage(t); console.log((c.user+c.system)/1000/N|0,'ms/build');
})().catch(e=>console.error(e));
