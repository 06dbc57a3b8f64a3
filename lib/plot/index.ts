/** Pictures: PNG image grids and heatmaps, SVG line and bar charts. */
export * from './png';
export * from './svg';
