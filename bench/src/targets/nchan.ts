import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type RunningTarget,
  type StartOptions,
  type TargetKind,
  freePort,
  spawnTo,
  waitHttp,
} from './types.ts'

/**
 * Debian's nginx and Nchan module, or BENCH_NGINX and BENCH_NCHAN_MODULE (another build, or
 * copies carried to a machine without them: scripts/device-bench.sh). BENCH_NCHAN_VERSION names
 * the module's version where dpkg does not know it.
 */
const MODULE = process.env.BENCH_NCHAN_MODULE || '/usr/lib/nginx/modules/ngx_nchan_module.so'
const NGINX = process.env.BENCH_NGINX || '/usr/sbin/nginx'

/**
 * Nchan's configuration for the same scenarios: `POST /pub?id=<topic>` publishes, `GET
 * /sub?id=<topic>` is an EventSource stream. No message buffer (like the gateway, which keeps
 * no history): a publish reaches the subscribers connected now. Nchan 1.3.6 still keeps every
 * message in shared memory until its timeout (default 1 hour), and frees expired ones lazily:
 * messages expire after 2 s, and the shared memory may grow to 4 GiB (a full run publishes
 * ~1 GB of 16 KiB bodies) so that no publish fails with 507. Only touched pages use memory.
 * Request bodies up to 64 KiB stay in memory.
 */
export function nchanConfig(dir: string, port: number, workers: number): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : ''
  return `load_module ${MODULE};
${user}worker_processes ${workers};
worker_rlimit_nofile 20000;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 19500; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 64k;
  client_max_body_size 1m;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  nchan_shared_memory_size 4096m;
  server {
    listen 127.0.0.1:${port} backlog=4096${workers > 1 ? ' reuseport' : ''};
    location = /healthz { return 200 'ok'; }
    location = /pub {
      nchan_publisher;
      nchan_channel_id $arg_id;
      nchan_message_buffer_length 0;
      nchan_message_timeout 2s;
    }
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_id;
      nchan_subscriber_first_message newest;
    }
  }
}
`
}

export function nchanTarget(workers = 1): TargetKind {
  const name = workers === 1 ? 'nchan' : `nchan-${workers}w`
  return {
    name,
    label: `Nchan (nginx, ${workers} worker${workers === 1 ? '' : 's'})`,
    async unavailable() {
      if (!existsSync(NGINX)) return `${NGINX} is missing (apt-get install nginx-light)`
      if (!existsSync(MODULE)) return `${MODULE} is missing (apt-get install libnginx-mod-nchan)`
      return undefined
    },
    async start(opts: StartOptions): Promise<RunningTarget> {
      const port = await freePort()
      const dir = join(opts.rawDir, name)
      mkdirSync(dir, { recursive: true })
      const conf = join(dir, 'nginx.conf')
      writeFileSync(conf, nchanConfig(dir, port, workers))
      const test = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-c', conf], { encoding: 'utf8' })
      if (test.status !== 0) throw new Error(`nginx -t failed: ${test.stderr}`)
      const p = spawnTo(opts.rawDir, name, NGINX, ['-p', dir, '-c', conf], {})
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000, p.proc)
      // dpkg-query's own format placeholder, not a template string.
      const format = '$' + '{Version}'
      const version =
        process.env.BENCH_NCHAN_VERSION ||
        spawnSync('dpkg-query', ['-W', '-f', format, 'libnginx-mod-nchan'], {
          encoding: 'utf8',
        }).stdout ||
        '?'
      return {
        name,
        label: this.label,
        // Seen with strace: nginx sets TCP_NODELAY only on connections that go keep-alive, so an
        // event stream's small writes wait for the client's delayed ACK (Nagle), up to 40 ms.
        detail: `nginx ${nginxVersion()} + libnginx-mod-nchan ${version}, ${workers} worker process(es), message buffer 0, messages expire after 2 s; its event streams run without TCP_NODELAY (nginx's own behaviour)`,
        kind: 'nchan',
        apiKey: '',
        publishAt: [{ host: '127.0.0.1', port }],
        subscribeAt: [{ host: '127.0.0.1', port }],
        pids: p.tree,
        connectionsPerProcess: 19_000,
        stop: () => p.stop(),
      }
    },
  }
}

function nginxVersion(): string {
  const v = spawnSync(NGINX, ['-v'], { encoding: 'utf8' })
  return /nginx\/(\S+)/.exec(v.stderr)?.[1] ?? '?'
}
