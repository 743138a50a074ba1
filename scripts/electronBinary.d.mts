export function electronBinary(root: string): { path: string; why?: undefined } | { path: undefined; why: string };
