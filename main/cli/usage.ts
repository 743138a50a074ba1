import { EMBED_USAGE } from './embed';
import { EVAL_LANDMARKS_USAGE } from './evalLandmarks';
import { EXPORT_ONNX_USAGE } from './exportOnnxCommand';
import { EXPORT_SEG_USAGE } from './exportSeg';
import { EXPORT_SR_USAGE } from './exportSr';
import { PROPAGATE_USAGE } from './propagate';
import { SEGMENT_USAGE } from './segment';

export const USAGE = `LD Studio — local discrimination for radiographs, on your own machine

Usage:
  ld-studio info [--python <interpreter>]
      Engines (tfjs backends; PyTorch: interpreter, version, devices) and versions.

  ld-studio pretrain --images <dir> --out <run-dir> [options]
      Learn local discrimination (Chen et al., TPAMI 2023) from a folder of images
      (DICOM, PNG, JPEG, TIFF). Writes <run-dir>/run.json, loss.csv and checkpoints/.
      --preset paper|landmarks   defaults for every setting below: paper (default), or landmarks,
                           the one-shot landmark recipe (stage 1, 128², batch 2, centre-sensitive, no flips,
                           ±10°, no view-2 turns, a view-2 warp, same-image negatives, 30 minutes);
                           options given explicitly override the preset's
      --minutes N          train for about N minutes: the first steps are timed and the step count
                           fixed from their speed (recorded in run.json; --resume continues exactly)
      --stage 1|2|both     1: patch discrimination + mixup; 2: + region discrimination
                           and entropy; both (default): stage 1 then stage 2
      --steps N            total optimisation steps (paper: 100000 = 20000 + 80000)
      --stage1-steps N     with --stage both: steps of stage 1 (default: a fifth of --steps)
      --size N             training crop side, multiple of 16 (paper: 448)
      --batch N            B, sampled image pairs per step; the network sees 5·B images (paper: 4)
      --micro-batch M      pairs per forward/backward pass, a divisor of --batch (default: all);
                           saves memory, but negatives and BN statistics then come per micro-batch
      --channels 1|3       input channels (default 1: radiographs)
      --clusters K         clusters of stage 2 (paper: 16)
      --lr X               learning rate (paper: 0.001, halved every --lr-halve-every steps)
      --lr-halve-every N   (paper: 10000)
      --centre-sensitive   centre-sensitive averaging for one-shot landmarks (ld-method.md §6.1):
                           Gaussian-weighted patch embeddings, so similarity peaks at the exact point
      --centre-sigma S     its σ in px at the training size (default size·14/448, the spec's 14 at 448)
      --rotation DEG       T0 rotation by U[−DEG, DEG] (paper 180)
      --flip P             T0 left-right and top-bottom flip probability (paper 0.5)
      --view2-turns on|off view 2 turned by a random multiple of 90° (paper on)
      --crop-scale MIN,MAX T0 crop area as a fraction of the image (paper 0.9,1)
      --view-warp S,DEG,T|off   view 2 also warped by a random similarity: scale up to ×S, ±DEG,
                           shifts up to T of the crop (paper off; needs --view2-turns off, --centre-sensitive)
      --negatives batch|image   patch-discrimination negatives: every other patch of the batch
                           (paper) or only the other patches of the same image
      --checkpoint-every N write a checkpoint every N steps (default 1000; also at the end/cancel)
      --engine auto|tfjs|torch   auto (default): PyTorch when a Python with torch is found, else tfjs
      --backend auto|tensorflow|webgpu|wasm|cpu   tfjs backend (default auto; naming one picks tfjs)
      --python <path>      the Python interpreter for the PyTorch engine (default: search, see info)
      --device auto|cpu|cuda|cuda:N   PyTorch device (default auto: CUDA when available)
      --gpus N             PyTorch DistributedDataParallel through torchrun: N processes per node
                           (one per GPU; with --device cpu, N CPU processes using gloo)
      --nnodes N --node-rank R --master-addr A --master-port P   multi-node torchrun settings
      --seed N             random seed (default 0): same seed, same run
      --init-from <run-dir|checkpoint>   start a stage-2 run from a (stage-1) checkpoint, as the
                           paper's stage 2 does (implies --stage 2; a new clustering branch keeps its init)
      --shape-prior <dir>  shape-guided segmentation (ld-method.md §5): a discriminator pushes cluster 0
                           towards the shapes of the binary masks in <dir> (unpaired; any size; > 0.1 of
                           the mask's maximum is foreground); +1·L_G. Needs stage 2 (--init-from <stage-1
                           run>, or --stage both), --size ≥ 160; default --clusters 8 (the paper's)
      --disc-leaky-slope S the discriminator's LeakyReLU slope (default 0.01, what the reference's
                           nn.LeakyReLU(True) was meant to be; 1 = the reference as run: no non-linearity)
      --resume             continue <run-dir> from its last checkpoint up to --steps

${EMBED_USAGE}
${EXPORT_ONNX_USAGE}
${PROPAGATE_USAGE}
${EVAL_LANDMARKS_USAGE}
${EXPORT_SEG_USAGE}
${EXPORT_SR_USAGE}
${SEGMENT_USAGE}
  ld-studio serve [--port P] [--host 127.0.0.1] [--allow-remote] [--allow-host NAME]… [--tls-cert PEM --tls-key PEM]
      Browser mode: serve the app on loopback with a random token and print its URL.
      --allow-remote       listen on a non-loopback --host (the token is still required)
      --allow-host NAME    a further name the browser may use for this machine (Host header);
                           loopback names and the --host address are always allowed
      --tls-cert, --tls-key  serve HTTPS with this certificate and key (PEM); without them a
                           remote browser sends the token and receives the images unencrypted

  ld-studio --help | --version

Ctrl+C during pretrain writes a checkpoint and stops; --resume continues exactly. During propagate
and segment it stops after the image in hand and writes what is done (exit 130); a second Ctrl+C quits.
`;
