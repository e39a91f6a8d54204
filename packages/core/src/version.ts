/** The gateway's version, as the admin API's `/info` reports it (kept equal to package.json's). */
export const GATEWAY_VERSION = '0.1.0'
