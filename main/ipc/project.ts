/** Handlers for the `project:` domain: create, open (and the sample project), get, recent, close. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectSnapshot } from '../../common/api';
import { PROJECT_FILE_NAME } from '../project/projectFile';
import { ProjectStore } from '../project/projectStore';
import { importImages } from './images';
import type { Session } from './session';
import { snapshotOf } from './snapshot';
import type { DomainHandlers } from './types';

export const SAMPLE_PROJECT_FOLDER = 'sample-project';

/**
 * The sample project in `<configDir>/sample-project`: created on first use with the images of the
 * sample folder (imported in place, never copied), or empty with a notice when there is none.
 */
export async function openSampleProject(session: Session): Promise<ProjectSnapshot> {
  const dir = join(session.configDir, SAMPLE_PROJECT_FOLDER);
  session.flushSync(); // reopening the open project reads what it holds now
  if (existsSync(join(dir, PROJECT_FILE_NAME))) {
    session.setProject(await ProjectStore.open(dir, session.storeOptions()));
    return snapshotOf(session, session.requireProject());
  }
  const store = await ProjectStore.create(dir, 'Sample project', session.storeOptions());
  session.setProject(store);
  const images = session.sampleImagesDir;
  if (images && existsSync(images)) {
    const result = await importImages(session, store, `sample-import-${Date.now()}`, [images]);
    if (result.imported.length === 0) {
      session.emit('app:notice', { level: 'warning', message: `the sample images in ${images} could not be read (${result.failed[0]?.reason ?? 'no images'}); import images with File → Import Images…` });
    }
  } else {
    session.emit('app:notice', {
      level: 'info',
      message: `This sample project is empty: no sample images were found${images ? ` at ${images}` : ''}. Import your own radiographs with File → Import Images… (or set LD_STUDIO_SAMPLE_IMAGES to a folder of images before starting LD Studio).`,
    });
  }
  store.flush();
  return snapshotOf(session, store);
}

export const projectHandlers: DomainHandlers<'project:create' | 'project:open' | 'project:openSample' | 'project:get' | 'project:recent' | 'project:close'> = {
  'project:create': async ({ dir, name }, { session }) => {
    const store = await ProjectStore.create(dir, name, session.storeOptions());
    session.setProject(store);
    return snapshotOf(session, store);
  },
  'project:open': async ({ dir }, { session }) => {
    session.flushSync(); // reopening the open project reads what it holds now
    const store = await ProjectStore.open(dir, session.storeOptions());
    session.setProject(store);
    return snapshotOf(session, store);
  },
  'project:openSample': async (_payload, { session }) => openSampleProject(session),
  'project:get': async (_payload, { session }) => session.snapshot(),
  'project:recent': async (_payload, { session }) => session.recent.list(),
  'project:close': async (_payload, { session }) => ({ closed: session.closeProject() }),
};
