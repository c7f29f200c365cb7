// Every task type this build can run. The API and the workers build the same registry, so a type the
// API accepts is one the workers know.
import { TaskRegistry } from '../registry.js';
import { echoHandler } from './echo.js';

export function createTaskRegistry(): TaskRegistry {
  return new TaskRegistry([echoHandler]);
}
