/**
 * @airy/box-catalog: the one home of the box catalog format (Vagrant's `metadata.json`, channel pointers, the
 * object layout), of the box content manifest (`box.json`), and of reading catalog documents (bounded in time and
 * size), and of the chunk index beside each box that lets a downloader fetch only what changed. No dependency
 * beyond `semver`, so bootstrap's `npx` install stays small.
 * @packageDocumentation
 */
export { CHUNKING, type Chunk, type ChunkIndex, chunkIndexName, chunkIndexOf, chunkList, chunkMatches, type Cutter, type DeltaPlan, indexFile, type LocalChunk, type LocalChunks, localChunks, parseChunkIndex, planDelta, stringifyChunkIndex } from './chunks.js';
export { type AddResult, ARCHITECTURES, type Architecture, addRelease, type BoxCatalog, CatalogError, type CatalogProvider, type CatalogVersion, type ChannelPointer, emptyCatalog, ImmutableVersionError, isBoxName, isChannel, isNewerVersion, isVersion, PROVIDERS, type Provider, vagrantArchitecture, parseCatalog, parseReleaseRecord, type ReleaseRecord, ReleaseNotFoundError, parseChannel, stringifyCatalog, stringifyChannel, type VersionRequest } from './catalog.js';
export { CatalogFetchError, displayUrl, type FetchLimits, fetchCatalogDocument } from './fetch.js';
export { catalogUrlOf, chooseRelease, type DocumentSource, type LoadedCatalog, readCatalog, singleBoxCatalog, urlSource } from './reader.js';
export { type BoxContentManifest, parseContentManifest, stringifyContentManifest } from './content-manifest.js';
export { BOX_DESCRIPTION, BOX_NAME, boxFileName, CATALOG_FILE, catalogBase, channelKey, isReleaseRecordKey, RELEASES_PREFIX, releaseKeys } from './layout.js';
