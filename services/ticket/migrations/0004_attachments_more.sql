-- Attachment contents are mostly compressed already (images, PDF, zip-based documents), so
-- PostgreSQL's compression gains little; stored uncompressed, `substring(content FROM … FOR …)`
-- reads only the TOAST chunks of the slice a download asks for, instead of decompressing the
-- content from its start for every 1 MiB slice.
ALTER TABLE blobs ALTER COLUMN content SET STORAGE EXTERNAL;
