import { decodeBuildkitStatus } from '../../../src/backend/engine/buildkit-status.js'

// Messages as Docker 20.10's BuildKit sent them for a three-step Dockerfile.
const CONTEXT_DONE =
  'CosBCkdzaGEyNTY6OTA0ZTI1MTBjMzU3YTNlYzFjOTljZjFiOTcxZTY4MzgzYTRhYjY2ODIyNjExYjgwNmRhN2ZjMWZiOGMyODNmZhokW2ludGVybmFsXSBsb2FkIHJlbW90ZSBidWlsZCBjb250ZXh0KgwI1qLP2AYQhp/ilgEyDAjWos/YBhComsWjAQ=='
const FROM_STARTED =
  'CpEBCkdzaGEyNTY6OTUxNjI1YWE1ZGNiOWI5MTJmMDNhM2FmYjAwNjVhMGRjMGM5MTM1MjZjMThjYWE1YTJmNmIwNDdhZGY0MDRkNxo4W3N0YWdlLTAgMS8zXSBGUk9NIGRvY2tlci5pby9jdHItZml4dHVyZXMvYnVzeWJveDpsYXRlc3QqDAjWos/YBhCcjdrIAg=='
const RUN_LOG =
  'GmEKR3NoYTI1Njo5YTYwNzdiYTBmYzVhNDk2ZTAyYTlhODE1YjM0Zjg0ZDJhMGE5MTQ2OGU1ZDdmZTRiYWNlODUxZDY5ODU4MDcxEgwI16LP2AYQh/qqwQIYASIGYnVpbHQK'

describe('decodeBuildkitStatus', () => {
  it.each([
    [
      CONTEXT_DONE,
      {
        vertexes: [
          {
            digest: 'sha256:904e2510c357a3ec1c99cf1b971e68383a4ab66822611b806da7fc1fb8c283ff',
            name: '[internal] load remote build context',
            cached: false,
            started: true,
            completed: true
          }
        ],
        logs: []
      }
    ],
    [
      FROM_STARTED,
      {
        vertexes: [
          {
            digest: 'sha256:951625aa5dcb9b912f03a3afb0065a0dc0c913526c18caa5a2f6b047adf404d7',
            name: '[stage-0 1/3] FROM docker.io/ctr-fixtures/busybox:latest',
            cached: false,
            started: true,
            completed: false
          }
        ],
        logs: []
      }
    ],
    [
      RUN_LOG,
      {
        vertexes: [],
        logs: [
          {
            vertex: 'sha256:9a6077ba0fc5a496e02a9a815b34f84d2a0a91468e5d7fe4bace851d69858071',
            text: 'built\n'
          }
        ]
      }
    ]
  ])('reads %s', (message, expected) => {
    expect(decodeBuildkitStatus(message)).toEqual(expected)
  })

  it('refuses a truncated message', () => {
    expect(() => decodeBuildkitStatus(FROM_STARTED.slice(0, 40))).toThrow(
      'truncated BuildKit status message'
    )
  })
})
