// cold_start.ts child (--phases): what the runtime's first setTimeout costs in
// a fresh process (Deno loads its Node-compatible timers then), in ms.
const t0 = performance.now();
clearTimeout(setTimeout(() => {}, 1000));
console.log(JSON.stringify({ "first setTimeout": performance.now() - t0 }));
