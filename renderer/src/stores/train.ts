import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { BackendName, IpcEvents, LossRow, RunSummary, TrainEngineId, TrainOptions, TrainSettings } from '../../../common/api';
import { useApi } from '../api/client';
import { useProjectStore } from './project';

export type TrainProgress = IpcEvents['train:progress'];

/** Engine choice, settings, the live run and its loss curve. */
export const useTrainStore = defineStore('train', () => {
  const project = useProjectStore();
  const options = ref<TrainOptions | null>(null);
  const engine = ref<TrainEngineId>('torch');
  /** tfjs only: the backend to train on; null lets the main process pick the best available. */
  const backend = ref<BackendName | null>(null);
  const settings = ref<TrainSettings | null>(null);
  const live = ref<TrainProgress | null>(null);
  /** Loss rows of the run shown in the chart. */
  const losses = ref<LossRow[]>([]);
  const shownRunId = ref<string | null>(null);

  const runs = computed<RunSummary[]>(() => project.snapshot?.runs ?? []);
  const running = computed(() => runs.value.find((r) => r.status === 'running') ?? null);
  const activeRunId = computed(() => project.snapshot?.activeRunId ?? null);
  /** The running run's total steps, live; 0 while a run by time is still timing its first steps. */
  const runningTotal = computed(() => {
    const r = running.value;
    if (!r) return 0;
    const l = live.value;
    return l && l.runId === r.id && l.totalSteps > 0 ? l.totalSteps : r.totalSteps;
  });

  async function loadOptions(): Promise<void> {
    options.value = await useApi().invoke('train:options');
    // Keep the user's choice across visits while it is still available.
    const chosen = options.value.engines.find((e) => e.id === engine.value);
    const firstAvailable = options.value.engines.find((e) => e.available);
    if (!chosen?.available && firstAvailable) engine.value = firstAvailable.id;
    const tfjs = options.value.engines.find((e) => e.id === 'tfjs');
    if (backend.value && !tfjs?.backends?.some((b) => b.name === backend.value && b.available)) backend.value = null;
    settings.value ??= { ...options.value.suggested };
  }
  // The presets set how to train; the shape prior and the run to start from (what to learn) stay.
  const keepTarget = (preset: TrainSettings): TrainSettings => ({ ...preset, shapePrior: settings.value?.shapePrior, initFromRunId: settings.value?.initFromRunId });
  const usePaperDefaults = () => {
    if (options.value) settings.value = keepTarget(options.value.paperDefaults);
  };
  const useSuggested = () => {
    if (options.value) settings.value = keepTarget(options.value.suggested);
  };
  const useLandmarkPreset = () => {
    if (options.value) settings.value = keepTarget(options.value.landmarkPreset);
  };

  function patchRun(run: RunSummary): void {
    if (!project.snapshot) return;
    const others = project.snapshot.runs.filter((r) => r.id !== run.id);
    project.set({ ...project.snapshot, runs: [...others, run].sort((a, b) => a.startedAt.localeCompare(b.startedAt)) });
  }

  async function start(): Promise<void> {
    if (!settings.value) return;
    const chosenBackend = engine.value === 'tfjs' && backend.value ? backend.value : undefined;
    const run = await useApi().invoke('train:start', { engine: engine.value, backend: chosenBackend, settings: { ...settings.value } });
    losses.value = [];
    shownRunId.value = run.id;
    patchRun(run);
  }
  const cancel = async (runId: string) => patchRun(await useApi().invoke('train:cancel', { runId }));
  async function resume(runId: string): Promise<void> {
    patchRun(await useApi().invoke('train:resume', { runId }));
    await show(runId);
  }
  async function show(runId: string): Promise<void> {
    if (shownRunId.value !== runId) losses.value = [];
    shownRunId.value = runId;
    const rows = await useApi().invoke('train:losses', { runId });
    if (shownRunId.value !== runId) return; // another run was chosen meanwhile
    // Keep rows that live progress appended while the file was being read.
    const lastStep = rows.at(-1)?.step ?? -Infinity;
    losses.value = [...rows, ...losses.value.filter((r) => r.step > lastStep)];
  }
  async function addRun(dir: string): Promise<RunSummary> {
    const run = await useApi().invoke('train:addRun', { dir });
    patchRun(run);
    return run;
  }
  const setActive = async (runId: string) => project.set(await useApi().invoke('train:setActive', { runId }));

  function listen(): void {
    const api = useApi();
    api.on('train:progress', (p) => {
      live.value = p;
      if (p.phase === 'training' && p.losses && p.runId === shownRunId.value) {
        const last = losses.value.at(-1);
        if (!last || last.step < p.step) losses.value = [...losses.value, { step: p.step, stage: p.stage ?? 1, losses: p.losses }];
      }
    });
    api.on('train:state', (run) => {
      patchRun(run);
      if (run.status !== 'running' && live.value?.runId === run.id) live.value = null;
      if (run.status === 'completed') void project.refresh();
    });
  }

  return {
    options, engine, backend, settings, live, losses, shownRunId, runs, running, runningTotal, activeRunId,
    loadOptions, usePaperDefaults, useSuggested, useLandmarkPreset, start, cancel, resume, show, setActive, addRun, listen,
  };
});
