export * from './html.js';
export * from './svg.js';
export * from './write.js';
