// cold_start.ts child: nothing at all; the runtime's own start-up time, for reference.
export {};
