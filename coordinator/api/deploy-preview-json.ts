import { deployPreviewJson, toErrorJson, type DeployPreviewJson } from '../../api-contract/index.ts';
import type { DeployPreview } from '../deploys/index.ts';
import { toBuildJson } from './build-json.ts';
import { toLockJson } from './deployment-json.ts';

export { deployPreviewJson, type DeployPreviewJson };

export function toDeployPreviewJson(preview: DeployPreview): DeployPreviewJson {
  return {
    kind: preview.kind,
    service: preview.service,
    build: toBuildJson(preview.build, preview.replication),
    waves: preview.waves,
    regions: preview.regions,
    changes: preview.changes,
    lock: preview.lock ? toLockJson(preview.lock) : null,
    refusals: preview.refusals.map(toErrorJson),
  };
}
