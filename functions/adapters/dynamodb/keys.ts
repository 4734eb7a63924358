// Key layout of the single table. Sort keys order by the UTF-8 bytes of the string, so a prefix plus a
// name lists names in byte order, the order the OCI listing endpoints promise.
//
//   pk              sk                          item
//   R#<repo>        T#<tag>                     tag: manifest digest, media type, size, small body copy
//   R#<repo>        M#<digest>                  manifest: body inline or S3 key, subject, references
//   R#<repo>        B#<digest>                  blob link: size, location
//   R#<repo>        F#<subject>#<digest>        referrer descriptor
//   R#<repo>        D#<digest>#<tag>            reverse tag index (which tags point at a digest)
//   REPOS           <repo>                      catalog entry, written once per repository
//   BLOB#<digest>   BLOB                        global blob record (first verified upload wins)
//   U#<id>          U                           upload session (TTL)
//   LOGIN#u:<name>  <window start>              failed logins of a user name in a window (TTL)
//   LOGIN#a:<addr>  <window start>              failed logins from a client address in a window (TTL)
//   ID#...          ...                         users, projects, roles, robots (dynamo-identity.ts)
//   AUDIT#P#<proj>  <ISO time>#<seq>            audit entry (TTL; dynamo-audit.ts)
//   AUDIT#PROJECTS  P#<project>                 the projects that have audit entries
//   Q#<project>     B#<digest>                  a blob the project counts: size, repositories linking it (dynamo-quota.ts)
//   Q#<project>     USAGE                       the project's storage usage: bytes, blobs

export interface Key {
  pk: string;
  sk: string;
}

export const TAG = 'T#';
export const MANIFEST = 'M#';
export const LINK = 'B#';
export const REFERRER = 'F#';
export const REVERSE = 'D#';
export const REPOS_PK = 'REPOS';

export const repoPk = (repo: string): string => `R#${repo}`;

export const tagKey = (repo: string, tag: string): Key => ({ pk: repoPk(repo), sk: TAG + tag });
export const manifestKey = (repo: string, digest: string): Key => ({ pk: repoPk(repo), sk: MANIFEST + digest });
export const linkKey = (repo: string, digest: string): Key => ({ pk: repoPk(repo), sk: LINK + digest });
export const referrerPrefix = (subject: string): string => `${REFERRER}${subject}#`;
export const referrerKey = (repo: string, subject: string, digest: string): Key => ({ pk: repoPk(repo), sk: referrerPrefix(subject) + digest });
export const reversePrefix = (digest: string): string => `${REVERSE}${digest}#`;
export const reverseKey = (repo: string, digest: string, tag: string): Key => ({ pk: repoPk(repo), sk: reversePrefix(digest) + tag });
export const repoEntryKey = (repo: string): Key => ({ pk: REPOS_PK, sk: repo });
export const blobKey = (digest: string): Key => ({ pk: `BLOB#${digest}`, sk: 'BLOB' });
export const uploadKey = (id: string): Key => ({ pk: `U#${id}`, sk: 'U' });
export const QUOTA_PK_PREFIX = 'Q#';
export const projectBlobKey = (project: string, digest: string): Key => ({ pk: QUOTA_PK_PREFIX + project, sk: LINK + digest });
export const usageKey = (project: string): Key => ({ pk: QUOTA_PK_PREFIX + project, sk: 'USAGE' });

/** S3 key of a manifest body too large for its item. */
export const manifestBodyKey = (repo: string, digest: string): string => `manifests/${repo}/${digest}`;
/** S3 key of a manifest's references and annotations when they do not fit its item (JSON). */
export const manifestFieldsKey = (repo: string, digest: string): string => `manifests/${repo}/${digest}.fields.json`;

/** Failed-login counters (dynamo-login-throttle.ts): the one kind of item a replica region's API writes (an IAM condition names the prefix). */
export const LOGIN_PK_PREFIX = 'LOGIN#';

/** Audit entries (dynamo-audit.ts): a replica region's API writes these too (logins served there). */
export const AUDIT_PK_PREFIX = 'AUDIT#';
