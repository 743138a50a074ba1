/**
 * A picture of a per-pixel embedding: its first three principal components (over the image's
 * pixels) as red, green and blue. Similar embeddings get similar colours, so anatomy the model
 * tells apart shows as different hues.
 */

/** Eigen-decomposition of a symmetric n×n matrix (row-major, float64) by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v }; // eigenvector i is column i of `vectors`
}

/** The top `count` principal directions of CHW data (d channels, n pixels), sign-fixed, plus the mean. */
export function principalComponents(chw: Float32Array, d: number, n: number, count = 3, maxSamples = 65536) {
  const stride = Math.max(1, Math.ceil(n / maxSamples));
  const mean = new Float64Array(d);
  let m = 0;
  for (let i = 0; i < n; i += stride, m++) for (let c = 0; c < d; c++) mean[c] += chw[c * n + i];
  for (let c = 0; c < d; c++) mean[c] /= Math.max(m, 1);
  const cov = new Float64Array(d * d);
  const x = new Float64Array(d);
  for (let i = 0; i < n; i += stride) {
    for (let c = 0; c < d; c++) x[c] = chw[c * n + i] - mean[c];
    for (let p = 0; p < d; p++) for (let q = p; q < d; q++) cov[p * d + q] += x[p] * x[q];
  }
  for (let p = 0; p < d; p++) for (let q = p; q < d; q++) cov[q * d + p] = cov[p * d + q] /= Math.max(m - 1, 1);
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from(values.keys()).sort((i, j) => values[j] - values[i]);
  const components: Float64Array[] = [];
  for (const idx of order.slice(0, count)) {
    const vec = new Float64Array(d);
    let big = 0;
    for (let c = 0; c < d; c++) {
      vec[c] = vectors[c * d + idx];
      if (Math.abs(vec[c]) > Math.abs(big)) big = vec[c];
    }
    if (big < 0) for (let c = 0; c < d; c++) vec[c] = -vec[c]; // deterministic sign
    components.push(vec);
  }
  while (components.length < count) components.push(new Float64Array(d));
  return { mean, components, variances: order.slice(0, count).map((i) => values[i]) };
}

/**
 * RGBA bytes (h·w·4) of a (d, h, w) embedding: PC1→R, PC2→G, PC3→B, each stretched from its 1st to
 * its 99th percentile.
 */
export function embeddingToRgba(chw: Float32Array, d: number, h: number, w: number): Uint8Array {
  const n = h * w;
  if (chw.length !== d * n) throw new Error(`embedding has ${chw.length} values, expected ${d}×${h}×${w}`);
  const { mean, components } = principalComponents(chw, d, n, 3);
  const rgba = new Uint8Array(n * 4);
  const proj = new Float32Array(n);
  components.forEach((vec, k) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (chw[c * n + i] - mean[c]) * vec[c];
      proj[i] = s;
    }
    const sorted = Float32Array.from(proj).sort();
    const lo = sorted[Math.floor(0.01 * (n - 1))];
    const hi = sorted[Math.ceil(0.99 * (n - 1))];
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let i = 0; i < n; i++) rgba[i * 4 + k] = Math.max(0, Math.min(255, Math.round((proj[i] - lo) * scale)));
  });
  for (let i = 0; i < n; i++) rgba[i * 4 + 3] = 255;
  return rgba;
}
