import { Inject } from '@nestjs/common';

/** The validated, frozen config object (`ConfigOf<schema>`). */
export const PLATFORM_CONFIG = Symbol('kadfleet:PLATFORM_CONFIG');
/** The PlatformServiceOptions the module was built with. */
export const PLATFORM_OPTIONS = Symbol('kadfleet:PLATFORM_OPTIONS');

/** `constructor(@InjectConfig() config: ServiceConfig)` */
export const InjectConfig = (): ParameterDecorator => Inject(PLATFORM_CONFIG);
