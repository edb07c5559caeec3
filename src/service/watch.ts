import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Service } from './context.js';
import { currentDocument } from './document.js';

/**
 * Notices outside edits as they happen, not only at the next proposal. The directory is
 * watched because an atomic rename (ours or an editor's) replaces the file's inode. The
 * service's own writes are seen too and recognised: their hash is the one it recorded.
 */
export function watchDocuments(service: Service, debounceMs = 250): () => void {
  const watchers: FSWatcher[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  for (const target of service.targets.values()) {
    const name = basename(target.path);
    const check = () => {
      timers.delete(target.name);
      try {
        currentDocument(service, target);
      } catch (error) {
        service.log.warn({ err: error, target: target.name }, 'the managed document cannot be read');
      }
    };
    try {
      const watcher = watch(dirname(target.path), { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        clearTimeout(timers.get(target.name));
        timers.set(target.name, setTimeout(check, debounceMs));
      });
      watcher.on('error', (error) => service.log.warn({ err: error }, 'document watch failed'));
      watchers.push(watcher);
    } catch (error) {
      service.log.warn(
        { err: error, target: target.name },
        'cannot watch the document; drift is still checked on every request',
      );
    }
  }
  return () => {
    for (const watcher of watchers) watcher.close();
    for (const timer of timers.values()) clearTimeout(timer);
  };
}
