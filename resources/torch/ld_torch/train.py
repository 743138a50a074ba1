"""The `train` command: stage 1 (patch discrimination + mixup) then stage 2 (LD), JSON-lines events,
checkpoints in the shared format, exact resume, stdin cancel, and DDP under torchrun.

Reproducibility: the model is initialised from a generator seeded by the run seed, the stage-2 clustering
branch from another one (so it is the same whether or not the run was resumed before stage 2), and every
batch from (seed, step, rank) (data.batch_rng). A checkpoint therefore holds the whole training state
(weights, BN statistics, Adam moments and step), and a resumed run continues exactly like an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Optional, Tuple

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from . import events
from .checkpoint import read_checkpoint, write_checkpoint
from .data import Augmentation, PreparedImages, batch_rng, make_batch
from .losses import GRID, NEGATIVES, alignment_gather_index, ld_losses
from .model import LDNet, _named_tensors, checkpoint_model_shape, load_tfjs
from .shape_prior import (Discriminator, PriorMasks, disc_feature_side, disc_state_to_tfjs, discriminator_loss,
                          draw_priors, generator_loss, load_disc_tfjs, prior_rng)

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass
class TrainConfig:
    stage: str  # "1" | "2" | "both"
    steps: int
    stage1_steps: int
    size: int
    batch: int
    channels: int
    clusters: int
    embed_dim: int
    lr: float
    lr_halve_every: int
    seed: int
    checkpoint_every: int
    centre_sigma: float = 0.0  # centre-sensitive averaging σ (px at the training size); 0 = uniform (paper)
    # shape-guided segmentation (§5): {"priorDir", "discLeakySlope", "discLrFactor", "gWeight", "cluster", ...}
    shape_guided: Optional[dict] = field(default=None)
    init_from: Optional[str] = None  # checkpoint whose matching tensors initialise a stage-2 run
    augment: Augmentation = field(default_factory=Augmentation)  # T0/view-2 geometry (paper defaults)
    negatives: str = "batch"  # "batch" (paper) or "image": patch negatives from the same image only
    minutes: Optional[float] = None  # training by time: steps are fixed from the speed of the first steps
    budget: Optional[dict] = None  # set once the steps are fixed (then `steps` is final)
    stage1_share: Optional[float] = None  # with minutes and stage both: stage 1's share of the fixed steps


def parse_config(c: dict) -> TrainConfig:
    stage = str(c.get("stage", "both"))
    cfg = TrainConfig(
        stage=stage, steps=int(c["steps"]), stage1_steps=int(c.get("stage1Steps", 0)), size=int(c["size"]),
        batch=int(c["batch"]), channels=int(c["channels"]), clusters=int(c.get("clusters", 16)),
        embed_dim=int(c.get("embedDim", 32)), lr=float(c.get("lr", 1e-3)), lr_halve_every=int(c.get("lrHalveEvery", 10_000)),
        seed=int(c.get("seed", 0)), checkpoint_every=int(c.get("checkpointEvery", 1_000)),
        centre_sigma=float(c.get("centreSigma") or 0.0),
        shape_guided=dict(c["shapeGuided"]) if c.get("shapeGuided") else None,
        init_from=c.get("initFrom") or None,
        augment=Augmentation.from_config(c.get("augment")), negatives=str(c.get("negatives", "batch")),
        minutes=float(c["minutes"]) if c.get("minutes") is not None else None, budget=c.get("budget") or None,
        stage1_share=float(c["stage1Share"]) if c.get("stage1Share") is not None else None,
    )
    errors = []  # the rules of main/engine/trainer/config.ts validateConfig
    if stage not in ("1", "2", "both"):
        errors.append(f"stage must be 1, 2 or both (got {stage})")
    if cfg.size < 32 or cfg.size % 16:
        errors.append(f"size must be a multiple of 16 and at least 32 (got {cfg.size})")
    if cfg.batch < 1:
        errors.append(f"batch must be a positive integer (got {cfg.batch})")
    if cfg.steps < 1:
        errors.append(f"steps must be a positive integer (got {cfg.steps})")
    if stage == "both" and cfg.stage1_steps < 0:
        errors.append(f"stage-1 steps must be a non-negative integer (got {cfg.stage1_steps})")
    if not cfg.lr > 0:
        errors.append(f"learning rate must be positive (got {cfg.lr})")
    if cfg.lr_halve_every < 1:
        errors.append(f"lrHalveEvery must be a positive integer (got {cfg.lr_halve_every})")
    if cfg.checkpoint_every < 1:
        errors.append(f"checkpoint interval must be a positive integer (got {cfg.checkpoint_every})")
    if not (cfg.centre_sigma >= 0 and math.isfinite(cfg.centre_sigma)):
        errors.append(f"centre sigma must be a non-negative number of pixels (got {cfg.centre_sigma})")
    if cfg.clusters < 2:
        errors.append(f"clusters must be at least 2 (got {cfg.clusters})")
    if cfg.channels not in (1, 3):
        errors.append(f"channels must be 1 or 3 (got {cfg.channels})")
    aug = cfg.augment
    for name, p in (("hflipP", aug.hflip_p), ("vflipP", aug.vflip_p)):
        if not 0 <= p <= 1:
            errors.append(f"augment.{name} must be a probability in [0, 1] (got {p})")
    if not 0 <= aug.rotation_deg <= 180:
        errors.append(f"augment.rotationDeg must be in [0, 180] (got {aug.rotation_deg})")
    if not 0 < aug.crop_scale[0] <= aug.crop_scale[1] <= 1:
        errors.append(f"augment.cropScale must satisfy 0 < min ≤ max ≤ 1 (got {list(aug.crop_scale)})")
    if cfg.minutes is not None and not (cfg.minutes > 0 and math.isfinite(cfg.minutes)):
        errors.append(f"minutes must be a positive number (got {cfg.minutes})")
    if aug.view_warp is not None and (aug.view2_turns or not cfg.centre_sigma > 0):
        errors.append("augment.viewWarp needs view2Turns off and centre-sensitive averaging (centreSigma > 0)")
    if cfg.negatives not in NEGATIVES:
        errors.append(f"negatives must be one of {', '.join(NEGATIVES)} (got {cfg.negatives})")
    if cfg.init_from and stage != "2":
        errors.append(f"initialising from a checkpoint needs stage 2 (got stage {stage})")
    sg = cfg.shape_guided
    if sg is not None:
        if stage == "1":
            errors.append("shape-guided training needs the clustering branch: use stage 2 or both, not 1")
        slope = float(sg.get("discLeakySlope", 0.01))
        if not (0 <= slope <= 1):
            errors.append(f"discriminator LeakyReLU slope must be in [0, 1] (got {slope})")
        if not float(sg.get("discLrFactor", 0.05)) > 0:
            errors.append("discriminator learning-rate factor must be positive")
        if not 0 <= int(sg.get("cluster", 0)) < cfg.clusters:
            errors.append(f"shape-guided cluster must be in 0..{cfg.clusters - 1}")
        if disc_feature_side(cfg.size) < 1:
            errors.append(f"shape-guided training needs size ≥ 160 (got {cfg.size})")
    if errors:
        raise ValueError("; ".join(errors))
    return cfg


def stage_of_step(cfg: TrainConfig, step: int) -> Tuple[int, int]:
    """(stage, 1-based step within the stage) of a 1-based global step."""
    if cfg.stage == "1":
        return 1, step
    if cfg.stage == "2":
        return 2, step
    return (1, step) if step <= cfg.stage1_steps else (2, step - cfg.stage1_steps)


def learning_rate(cfg: TrainConfig, stage_step: int) -> float:
    return cfg.lr * 0.5 ** math.floor((stage_step - 1) / cfg.lr_halve_every)


BUDGET_MEASURE_STEPS = 10  # steps timed (after the first, which warms up) before a time budget becomes steps


def budget_steps(minutes: float, step_seconds) -> int:
    """Steps that fit `minutes` at the mean speed of the timed steps (main/engine/trainer/config.ts stepsForMinutes)."""
    per = sum(step_seconds) / len(step_seconds)
    return max(len(step_seconds) + 1, int(math.floor(minutes * 60.0 / per)))


def derived_seed(*parts) -> int:
    digest = hashlib.sha256("/".join(str(p) for p in ("ld-torch",) + parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


# ------------------------------------------------------------------------------------------------------
# Devices and DDP
# ------------------------------------------------------------------------------------------------------

@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1 or dist.is_initialized()

    @property
    def main(self) -> bool:
        return self.rank == 0


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def setup_device(requested: str) -> Tuple[torch.device, Dist]:
    """Pick the device and, when started by torchrun (RANK/WORLD_SIZE in the environment), join the process
    group: gloo on CPU, nccl on CUDA with one GPU per local rank."""
    env = os.environ
    d = Dist()
    if "RANK" in env and "WORLD_SIZE" in env:
        d = Dist(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0)), int(env.get("LOCAL_WORLD_SIZE", 1)))
    requested = (requested or "auto").strip()
    if requested == "auto":
        use_cuda = torch.cuda.is_available()
    elif requested == "cpu":
        use_cuda = False
    elif requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(f"device '{requested}' was requested but CUDA is not available to this Python ({torch.__version__})")
        use_cuda = True
    else:
        raise ValueError(f"unknown device '{requested}' (auto, cpu, cuda or cuda:N)")
    if use_cuda:
        if "RANK" in env:
            index = d.local_rank  # torchrun: one GPU per local process
        else:
            index = int(requested.split(":", 1)[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise RuntimeError(f"CUDA device {index} does not exist ({torch.cuda.device_count()} visible)")
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest kernels
    else:
        device = torch.device("cpu")
        torch.set_num_threads(max(1, _usable_cpus() // max(1, d.local_world_size)))
    if "RANK" in env and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return device, d


# ------------------------------------------------------------------------------------------------------
# The loop
# ------------------------------------------------------------------------------------------------------

def new_adam(model: torch.nn.Module, lr: float) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=0.0)


def load_matching(model: torch.nn.Module, tensors: dict) -> Tuple[list, list]:
    """Copy every model tensor that `tensors` holds with the same shape (a stage-1 checkpoint into a stage-2
    model: the clustering branch keeps its initialisation). Returns (loaded keys, kept keys)."""
    from .model import from_tfjs_array

    loaded, kept = [], []
    with torch.no_grad():
        for key, t, _ in _named_tensors(model):
            a = tensors.get(key)
            if a is not None:
                value = from_tfjs_array(a)
                if tuple(value.shape) == tuple(t.shape):
                    t.copy_(value.to(t.device))
                    loaded.append(key)
                    continue
            kept.append(key)
    return loaded, kept


class Trainer:
    def __init__(self, cfg: TrainConfig, images: PreparedImages, device: torch.device, ctx: Dist, run_dir: str,
                 resume_from: Optional[str] = None, priors: Optional[PriorMasks] = None):
        self.cfg, self.images, self.device, self.ctx, self.run_dir = cfg, images, device, ctx, run_dir
        self.priors = priors
        # augmentation on the training device when it is a GPU (on a CPU the two are the same thing)
        self.augment_on_device = device.type != "cpu"
        self.disc: Optional[Discriminator] = None
        self.optimizer_d: Optional[torch.optim.Adam] = None
        self.disc_net: Optional[torch.nn.Module] = None
        if cfg.shape_guided is not None and priors is None:
            raise ValueError("shape-guided training needs prior masks (the request has no 'priors')")
        if resume_from:
            tensors, meta = read_checkpoint(resume_from)
            self.step, self.stage = int(meta["step"]), int(meta["stage"])
            channels, embed_dim, clusters = checkpoint_model_shape(tensors)
            if channels != cfg.channels or embed_dim != cfg.embed_dim:
                raise ValueError(f"{resume_from}: the checkpoint's model has {channels} input channels and D = {embed_dim}, the run {cfg.channels} and {cfg.embed_dim}")
            if self.stage == 2 and clusters != cfg.clusters:
                raise ValueError(f"{resume_from}: the checkpoint has {clusters} clusters, the run {cfg.clusters}")
            self.model = LDNet(cfg.channels, cfg.embed_dim, cfg.clusters if self.stage == 2 else 0).to(device)
            self.optimizer = new_adam(self.model, cfg.lr)
            load_tfjs(self.model, self.optimizer, tensors, step=int(meta.get("adam_step", "0")))
            if self.stage == 2 and cfg.shape_guided is not None:
                self._create_discriminator()
                if "disc_1.weight" not in tensors:
                    raise ValueError(f"{resume_from}: a shape-guided run's stage-2 checkpoint must hold the discriminator (disc_*)")
                load_disc_tfjs(self.disc, self.optimizer_d, tensors, step=int(meta.get("adam_step", "0")))
            if ctx.main:
                events.log(f"resuming at step {self.step} (stage {self.stage}) from a {meta.get('engine', 'tfjs')} checkpoint: {resume_from}")
        else:
            self.step = 0
            self.stage = stage_of_step(cfg, 1)[0]
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derived_seed(cfg.seed, "model"))
                self.model = LDNet(cfg.channels, cfg.embed_dim, cfg.clusters if self.stage == 2 else 0)
            if cfg.init_from:
                tensors, _ = read_checkpoint(cfg.init_from)
                loaded, kept = load_matching(self.model, tensors)
                if not any(k.startswith("enc") for k in loaded):
                    raise ValueError(f"{cfg.init_from}: no encoder weights match this model (different input channels?)")
                if ctx.main:
                    events.log(f"initialised {len(loaded)} tensors from {cfg.init_from}; {len(kept)} keep their initialisation"
                               + (f" ({', '.join(sorted({k.split('.')[0] for k in kept}))})" if kept else ""))
            self.model.to(device)
            self.optimizer = new_adam(self.model, cfg.lr)
            if self.stage == 2 and cfg.shape_guided is not None:
                self._create_discriminator()
        self.net = self._wrap()

    def _create_discriminator(self) -> None:
        """D with PyTorch's default init (seeded from the run seed) and its own Adam (lr × discLrFactor)."""
        sg = self.cfg.shape_guided
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived_seed(self.cfg.seed, "disc"))
            self.disc = Discriminator(float(sg.get("discLeakySlope", 0.01)))
        self.disc.to(self.device)
        self.optimizer_d = torch.optim.Adam(self.disc.parameters(), lr=self.cfg.lr * float(sg.get("discLrFactor", 0.05)),
                                            betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=0.0)
        self.disc_net = self._wrap_module(self.disc)

    def _wrap(self) -> torch.nn.Module:
        return self._wrap_module(self.model)

    def _wrap_module(self, module: torch.nn.Module) -> torch.nn.Module:
        if not self.ctx.enabled:
            return module
        # broadcast_buffers (default): every forward takes rank 0's BN running statistics, like DataParallel
        # keeps replica 0's; the batch statistics used for normalisation stay per rank (no SyncBatchNorm).
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, output_device=ids[0] if ids else None)

    def enter_stage2(self) -> None:
        """Add the clustering branch (default init, seeded from the run seed) and start a new Adam, as the
        reference's step2 script does."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived_seed(self.cfg.seed, "clusters"))
            self.model.add_clusters(self.cfg.clusters)
        self.optimizer = new_adam(self.model, self.cfg.lr)
        self.stage = 2
        self.net = self._wrap()
        if self.cfg.shape_guided is not None:
            self._create_discriminator()

    def checkpoint(self, reason: str) -> Optional[str]:
        if not self.ctx.main:
            return None
        extra = disc_state_to_tfjs(self.disc, self.optimizer_d) if self.disc is not None else None
        path = write_checkpoint(self.run_dir, self.model, self.optimizer, self.step, self.stage, reason, self.cfg.seed, extra)
        events.emit({"type": "checkpoint", "step": self.step, "path": path, "reason": reason})
        return path

    def _cancel_now(self, watcher) -> bool:
        flag = bool(watcher.requested)
        if not self.ctx.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)  # every rank stops at the same step
        return bool(t.item() > 0)

    def train_step(self, step: int, stage: int, lr: float) -> dict:
        cfg = self.cfg
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = make_batch(self.images, batch_rng(cfg.seed, step, self.ctx.rank), cfg.batch, cfg.size, cfg.channels, aug=cfg.augment,
                           device=self.device if self.augment_on_device else None)
        x = batch.x.to(self.device, non_blocking=True)
        index = alignment_gather_index(cfg.batch, batch.f, batch.k, GRID)
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        z, a = self.net(x)
        terms = ld_losses(z, a, cfg.batch, batch.w, index, cfg.centre_sigma, cfg.negatives, batch.warps)
        total = terms.total
        sg = cfg.shape_guided if stage == 2 else None
        loss_g = loss_d = None
        if sg is not None:
            # §5.4: L_G through a frozen D (its parameters take no gradient from G's step)
            fake = a[: 4 * cfg.batch, int(sg.get("cluster", 0)) : int(sg.get("cluster", 0)) + 1]
            for p in self.disc.parameters():
                p.requires_grad_(False)
            loss_g = generator_loss(self.disc(fake))
            total = total + float(sg.get("gWeight", 1.0)) * loss_g
        total.backward()
        self.optimizer.step()
        if sg is not None:
            for p in self.disc.parameters():
                p.requires_grad_(True)
            # D's step on [real; fake from before G's update (detached)]
            real = draw_priors(self.priors, prior_rng(cfg.seed, step, self.ctx.rank), cfg.batch, cfg.size).to(self.device)
            for group in self.optimizer_d.param_groups:
                group["lr"] = lr * float(sg.get("discLrFactor", 0.05))
            self.optimizer_d.zero_grad(set_to_none=True)
            loss_d = discriminator_loss(self.disc_net(torch.cat([real, fake.detach()], 0)), real.shape[0])
            loss_d.backward()
            self.optimizer_d.step()
        names = ["pd", "mix", "rd", "ent", "loss"] if stage == 2 else ["pd", "mix", "loss"]
        if sg is not None:
            names += ["g", "d"]
        values = torch.stack([t.detach() for t in (terms.pd, terms.mix, terms.rd, terms.ent, total, loss_g, loss_d) if t is not None])
        if self.ctx.enabled:  # report the mean over ranks (each rank's loss is on its own batch)
            dist.all_reduce(values, op=dist.ReduceOp.SUM)
            values /= self.ctx.world_size
        return dict(zip(names, values.cpu().tolist()))

    def _fix_budget(self, timed) -> None:
        """A time budget becomes a step count once the first steps are timed; the event lets Node record it."""
        cfg = self.cfg
        cfg.steps = max(self.step + 1, budget_steps(cfg.minutes, timed))
        if cfg.stage == "both" and cfg.stage1_share is not None:
            cfg.stage1_steps = min(cfg.steps, max(1, int(math.floor(cfg.steps * cfg.stage1_share + 0.5))))  # JS Math.round
        cfg.budget = {"secondsPerStep": sum(timed) / len(timed), "timedSteps": len(timed)}
        if self.ctx.enabled:  # every rank must stop at the same step: take rank 0's count
            t = torch.tensor([cfg.steps, cfg.stage1_steps], dtype=torch.float64, device=self.device)
            dist.broadcast(t, 0)
            cfg.steps, cfg.stage1_steps = int(t[0].item()), int(t[1].item())
        if self.ctx.main:
            events.emit({"type": "budget", "steps": cfg.steps, "stage1Steps": cfg.stage1_steps, **cfg.budget})

    def run(self, watcher) -> str:
        cfg = self.cfg
        last_checkpoint = self.step
        status = "completed"
        measuring = cfg.minutes is not None and cfg.budget is None
        timed = []
        warm = False  # the first step of a process (cold caches, allocator) is not timed
        while self.step < cfg.steps:
            if self._cancel_now(watcher):
                status = "cancelled"
                if last_checkpoint != self.step:
                    self.checkpoint("cancel")
                break
            nxt = self.step + 1
            stage, stage_step = stage_of_step(cfg, nxt)
            if stage == 2 and self.stage == 1:
                self.enter_stage2()
            lr = learning_rate(cfg, stage_step)
            t0 = time.perf_counter()
            losses = self.train_step(nxt, stage, lr)
            self.step = nxt
            seconds = time.perf_counter() - t0
            if self.ctx.main:
                events.emit({"type": "step", "step": nxt, "stage": stage, "lr": lr, "seconds": seconds, "losses": losses})
            if measuring:
                if warm:
                    timed.append(seconds)
                warm = True
                if len(timed) == BUDGET_MEASURE_STEPS:
                    self._fix_budget(timed)
                    measuring = False
            if nxt % cfg.checkpoint_every == 0 or nxt == cfg.steps:
                self.checkpoint("final" if nxt == cfg.steps else "interval")
                last_checkpoint = nxt
        return status


def run_train(request: dict) -> int:
    cfg = parse_config(request["config"])
    run_dir = request["runDir"]
    device, ctx = setup_device(request.get("device", "auto"))
    finished = False
    try:
        # only global rank 0 reads stdin (the ranks share the pipe); the flag reaches the others by all_reduce
        watcher = events.CancelWatcher(read_stdin=ctx.main)
        images = PreparedImages(request["images"], cfg.channels)
        priors = PriorMasks(request["priors"]) if cfg.shape_guided is not None else None
        trainer = Trainer(cfg, images, device, ctx, run_dir, request.get("resumeFrom"), priors)
        if ctx.main:
            events.emit({"type": "ready", "images": len(images), "startStep": trainer.step, "device": str(device),
                         "worldSize": ctx.world_size})
        status = trainer.run(watcher)
        completed = trainer.step
        if device.type == "cuda":
            events.log(f"rank {ctx.rank}: peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")
        del trainer  # DDP's reducer holds the process group: release it before the group goes
        finished = True
    finally:
        if dist.is_initialized():
            if finished:
                # nobody tears down while rank 0 still writes its last checkpoint
                dist.barrier(device_ids=[device.index]) if device.type == "cuda" else dist.barrier()
            dist.destroy_process_group()
    if ctx.main:
        events.emit({"type": "done", "status": status, "completedSteps": completed})
    return 0
