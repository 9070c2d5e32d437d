// Seed 004's error classes: both are `ModelportError`s, with codes.
import { ModelportError, type ModelportErrorInfo } from '../errors'
import type { SdkVersionRange } from './types'

/** A malformed plugin: its export, manifest or shape (`PLUGIN_INVALID`). */
export class PluginValidationError extends ModelportError {
  constructor(info: Omit<ModelportErrorInfo, 'code'>, options?: { cause?: unknown }) {
    super({ ...info, code: 'PLUGIN_INVALID' }, options)
    this.name = 'PluginValidationError'
  }
}

/** A plugin whose SDK version range excludes this modelport's `SDK_VERSION` (`SDK_VERSION_MISMATCH`). */
export class PluginVersionMismatchError extends ModelportError {
  /** The versions the plugin works with. */
  readonly requiredRange: SdkVersionRange
  /** This modelport's `SDK_VERSION`. */
  readonly currentVersion: number

  constructor(
    info: Omit<ModelportErrorInfo, 'code'>,
    requiredRange: SdkVersionRange,
    currentVersion: number,
  ) {
    super({ ...info, code: 'SDK_VERSION_MISMATCH' })
    this.name = 'PluginVersionMismatchError'
    this.requiredRange = requiredRange
    this.currentVersion = currentVersion
  }
}
