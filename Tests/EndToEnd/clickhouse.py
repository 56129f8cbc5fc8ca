"""Private ClickHouse servers for the tests: Debian's clickhouse-server (18.16), started on free loopback ports
with a config, data and log folder of its own in a temporary directory (never the system's service), and
talked to over its HTTP interface with urllib, as ../shared/CLICKHOUSE.md measured it."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

SERVER = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"
USER, PASSWORD = "logstream", "logstream-secret"


class ClickHouseError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status, self.body = status, body


def available():
    return os.path.exists(SERVER)


def cluster_xml(name, shards):
    """<remote_servers> with one shard per (host, tcp_port)."""
    replicas = "".join(f"<shard><replica><host>127.0.0.1</host><port>{port}</port></replica></shard>" for port in shards)
    return f"<remote_servers><{name}>{replicas}</{name}></remote_servers>"


class ClickHouse:
    def __init__(self, free_port, name="ch", directory=None, https=None, client_ca=None):
        """`https`: (certificate, key) files: the server also serves HTTPS on `https_port`, and with `client_ca`
        it requires a client certificate that CA signed."""
        self.client_ca = client_ca
        self.directory = Path(directory or tempfile.mkdtemp(prefix=f"logstream-{name}-"))
        self.http_port, self.tcp_port, self.interserver_port = free_port(), free_port(), free_port()
        self.https = https
        self.https_port = free_port() if https else None
        self.name = name
        self.process = None
        for sub in ("data", "tmp", "user_files", "format_schemas", "log", "config.d"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self.write_config()

    def write_config(self, remote_servers="<remote_servers/>"):
        d = self.directory
        (d / "users.xml").write_text(f"""<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <{USER}><password>{PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></{USER}>
  </users>
  <quotas><default></default></quotas>
</yandex>""")
        (d / "config.xml").write_text(f"""<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><console>0</console></logger>
  <display_name>{self.name}</display_name>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{self.http_port}</http_port>
  <tcp_port>{self.tcp_port}</tcp_port>
  <interserver_http_port>{self.interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  {remote_servers}
  {self.https_xml()}
</yandex>""")

    def https_xml(self):
        if not self.https:
            return ""
        certificate, key = self.https
        verification = (f"<verificationMode>strict</verificationMode><caConfig>{self.client_ca}</caConfig>" if self.client_ca
                        else "<verificationMode>none</verificationMode>")
        return (f"<https_port>{self.https_port}</https_port><openSSL><server><certificateFile>{certificate}</certificateFile>"
                f"<privateKeyFile>{key}</privateKeyFile>{verification}"
                "<loadDefaultCAFile>false</loadDefaultCAFile><disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>"
                "</server></openSSL>")

    @property
    def https_url(self):
        return f"https://localhost:{self.https_port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout=20):
        log = open(self.directory / "log" / "stdout.log", "ab")
        self.process = subprocess.Popen([SERVER, f"--config-file={self.directory}/config.xml"], cwd=self.directory,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"clickhouse-server exited: {(self.directory / 'log' / 'error.log').read_text()[-2000:]}")
            try:
                if self.query("SELECT 1", timeout=1).strip() == "1":
                    return self
            except (OSError, ClickHouseError):
                time.sleep(0.02)
        raise RuntimeError("clickhouse-server did not answer")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def remove(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def query(self, sql, user=None, password=None, timeout=30, **settings):
        params = {"wait_end_of_query": "1", "output_format_json_quote_64bit_integers": "0", **settings}
        request = urllib.request.Request(f"{self.url}/?{urllib.parse.urlencode(params)}", data=sql.encode(), method="POST")
        if user:
            request.add_header("X-ClickHouse-User", user)
            request.add_header("X-ClickHouse-Key", password or "")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            raise ClickHouseError(error.code, error.read().decode(errors="replace")) from None

    def scalar(self, sql, **options):
        return int(self.query(sql, **options).strip() or 0)

    def rows(self, sql, **options):
        return [json.loads(line) for line in self.query(sql + " FORMAT JSONEachRow", **options).splitlines() if line]


LOCAL_TABLE_DDL = """CREATE TABLE IF NOT EXISTS logstream.logs_local
(
    node String, id UInt64, ts DateTime('UTC'), ts_ms UInt64, source_ms Int64, level String, service String, host String,
    protocol String, format String, truncated UInt8, msg String,
    field_keys Array(String), field_values Array(String), field_kinds Array(UInt8)
)
ENGINE = ReplacingMergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (service, ts, node, id)"""
DISTRIBUTED_DDL = ("CREATE TABLE IF NOT EXISTS logstream.logs AS logstream.logs_local "
                   "ENGINE = Distributed(logstream, logstream, logs_local, cityHash64(node, id))")


def two_shard_cluster(free_port):
    """Two servers, each a shard of cluster `logstream`, each with `logs_local` and a Distributed `logs` over both
    (the README's DDL; ON CLUSTER needs ZooKeeper, so it runs on each)."""
    shards = [ClickHouse(free_port, name=f"shard{index}") for index in (1, 2)]
    for shard in shards:
        shard.write_config(cluster_xml("logstream", [s.tcp_port for s in shards]))
    for shard in shards:
        shard.start()
        shard.query("CREATE DATABASE IF NOT EXISTS logstream")
        shard.query(LOCAL_TABLE_DDL)
        shard.query(DISTRIBUTED_DDL)
    return shards
