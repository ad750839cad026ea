import { Replayer } from 'rrweb'
window.uxlabPlayer = { Replayer }
