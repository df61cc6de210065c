// Builds (or finds) the cached guest image on its own: `npm run vm:image`.
import { guestImage, requireHostPrograms } from './image.js';

await requireHostPrograms();
const { image, built, seconds } = await guestImage((s) => console.log(s));
console.log(built ? `built in ${seconds} s: ${image.dir}` : `cached: ${image.dir}`);
