/** Names both sides of the contract use, and main's modules declare their values against. */

/** A tfjs backend (main/engine/backends.ts). */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** The container an image was read from (main/io readers). */
export type ImageFormat = 'dicom' | 'png' | 'jpeg' | 'tiff';
