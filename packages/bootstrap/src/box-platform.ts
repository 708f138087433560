/** The platform inside the box, resolved once from @airy/manifests' box options: its namespace and database. */
import { BOX_PLATFORM_OPTIONS, resolveOptions } from '@airy/manifests';

export const BOX_PLATFORM = resolveOptions(BOX_PLATFORM_OPTIONS);
