/**
 * The workflow's modes, in the order of the mode bar: what the shell shows, which key switches to
 * each (Alt+n), and whether it needs an open project.
 */
import type { Component } from 'vue';
import ExportMode from './ExportMode.vue';
import ImportMode from './ImportMode.vue';
import ProjectMode from './ProjectMode.vue';
import ReviewMode from './ReviewMode.vue';
import SegmentMode from './SegmentMode.vue';
import TemplateMode from './TemplateMode.vue';
import TrainMode from './TrainMode.vue';

import type { ModeId } from './modeIds';

export type { ModeId };

export interface Mode {
  id: ModeId;
  label: string;
  key: string;
  needsProject: boolean;
  component: Component;
}

export const MODES: readonly Mode[] = [
  { id: 'project', label: 'Project', key: '1', needsProject: false, component: ProjectMode },
  { id: 'import', label: 'Import', key: '2', needsProject: true, component: ImportMode },
  { id: 'train', label: 'Train', key: '3', needsProject: true, component: TrainMode },
  { id: 'template', label: 'Template', key: '4', needsProject: true, component: TemplateMode },
  { id: 'review', label: 'Review', key: '5', needsProject: true, component: ReviewMode },
  { id: 'segment', label: 'Segment', key: '6', needsProject: true, component: SegmentMode },
  { id: 'export', label: 'Export', key: '7', needsProject: true, component: ExportMode },
];
