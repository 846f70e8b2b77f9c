import { test } from "node:test";
import assert from "node:assert/strict";
import { errorCodeForAnswer, parseRemoteException, WebHdfsError } from "./webhdfs-errors.ts";

test("HDFS answers: retried when HDFS may get over it, refused when an operator must act", () => {
  const cases: [number, string | null, string][] = [
    [503, null, "WEBHDFS_UNAVAILABLE"],
    [500, "NullPointerException", "WEBHDFS_UNAVAILABLE"],
    [429, null, "WEBHDFS_UNAVAILABLE"],
    [403, "SafeModeException", "WEBHDFS_UNAVAILABLE"],
    [403, "RetriableException", "WEBHDFS_UNAVAILABLE"],
    [403, "StandbyException", "WEBHDFS_UNAVAILABLE"],
    [403, "ConnectException", "WEBHDFS_UNAVAILABLE"], // a DataNode that cannot reach the NameNode
    [403, "DSQuotaExceededException", "WEBHDFS_UNAVAILABLE"],
    [403, "AccessControlException", "WEBHDFS_REFUSED"],
    [403, "ParentNotDirectoryException", "WEBHDFS_REFUSED"],
    [403, "FileAlreadyExistsException", "WEBHDFS_REFUSED"],
    [400, "IllegalArgumentException", "WEBHDFS_REFUSED"],
    [401, null, "WEBHDFS_REFUSED"],
    [403, null, "WEBHDFS_REFUSED"],
  ];
  for (const [status, exception, code] of cases) assert.equal(errorCodeForAnswer(status, exception), code, `${status} ${exception}`);
  assert.equal(new WebHdfsError("WEBHDFS_UNAVAILABLE", "x").retryable, true);
  assert.equal(new WebHdfsError("WEBHDFS_UNREACHABLE", "x").retryable, true);
  assert.equal(new WebHdfsError("WEBHDFS_RENAME", "x").retryable, true);
  assert.equal(new WebHdfsError("WEBHDFS_REFUSED", "x").retryable, false);
  assert.equal(new WebHdfsError("WEBHDFS_PROTOCOL", "x").retryable, false);
});

test("a RemoteException body is read; anything else gives nulls", () => {
  assert.deepEqual(parseRemoteException('{"RemoteException":{"exception":"SafeModeException","javaClassName":"org.apache.hadoop.hdfs.server.namenode.SafeModeException","message":"Name node is in safe mode."}}'), {
    exception: "SafeModeException",
    message: "Name node is in safe mode.",
  });
  assert.deepEqual(parseRemoteException("<html>502 Bad Gateway</html>"), { exception: null, message: null });
  assert.deepEqual(parseRemoteException('{"boolean": true}'), { exception: null, message: null });
});
