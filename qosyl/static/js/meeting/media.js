// The local camera and microphone: opening them (with clear words for what went wrong),
// listing devices for the pickers, and the microphone level.

const PROBLEMS = {
  NotAllowedError:
    "Your browser blocks the camera and microphone for this site. Allow them in the site settings to be seen and heard; you can still join to listen and watch.",
  SecurityError:
    "Your browser blocks the camera and microphone for this site. Allow them in the site settings to be seen and heard; you can still join to listen and watch.",
  NotReadableError:
    "Another app is using your camera or microphone. Close it and reload, or join to listen and watch.",
  none: "No camera or microphone was found. You can still join to listen and watch.",
  noCamera: "No camera was found: you can join with your microphone.",
  noMicrophone: "No microphone was found: you can join with your camera only.",
  unsupported: "This browser cannot use a camera or microphone here. You can still join to listen and watch.",
};

function constraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

async function ask(kinds, devices) {
  const wanted = {
    audio: kinds.audio ? constraint(devices.audioinput) : false,
    video: kinds.video ? constraint(devices.videoinput) : false,
  };
  return navigator.mediaDevices.getUserMedia(wanted);
}

// A stream with what could be opened of `kinds` ({audio, video}), and a sentence for the
// person when some or all of it could not be: {stream, problem}. Never throws.
export async function openMedia(kinds, devices = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: new MediaStream(), problem: PROBLEMS.unsupported };
  }
  if (!kinds.audio && !kinds.video) return { stream: new MediaStream(), problem: "" };
  try {
    return { stream: await ask(kinds, devices), problem: "" };
  } catch (error) {
    if (error.name in PROBLEMS) return { stream: new MediaStream(), problem: PROBLEMS[error.name] };
    // NotFoundError or OverconstrainedError: one of the two may still be there.
  }
  for (const [kind, missing] of [["audio", "noCamera"], ["video", "noMicrophone"]]) {
    if (!kinds[kind]) continue;
    try {
      const stream = await ask({ [kind]: true }, devices);
      return { stream, problem: kinds.audio && kinds.video ? PROBLEMS[missing] : "" };
    } catch (error) {
      if (error.name in PROBLEMS) return { stream: new MediaStream(), problem: PROBLEMS[error.name] };
    }
  }
  return { stream: new MediaStream(), problem: PROBLEMS.none };
}

// One track of a kind, for turning the camera back on or changing device; null if refused.
export async function openTrack(kind, deviceId) {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraint(deviceId) });
    return stream.getTracks()[0] || null;
  } catch {
    return null;
  }
}

// Fill the camera and microphone pickers (labels are known once permission was given).
export async function listDevices(selects) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const select of selects) {
    const kind = select.dataset.device;
    const chosen = select.value;
    const first = select.options[0];
    select.replaceChildren(first);
    let count = 0;
    for (const device of devices) {
      if (device.kind !== kind || !device.deviceId || device.deviceId === "default") continue;
      count += 1;
      const option = new Option(device.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${count}`, device.deviceId);
      select.append(option);
    }
    select.value = chosen;
    select.disabled = count === 0;
  }
}

// How loud an audio track is, 0 to 1, read by `read()`; `stop()` releases it.
export function levelOf(track) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!track || !Context) return { read: () => 0, stop() {} };
  const context = new Context();
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return {
    read() {
      if (context.state === "suspended") context.resume().catch(() => {});
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      // RMS of speech sits around 0.02-0.2; scaled so that talking fills most of the meter.
      return Math.min(1, Math.sqrt(sum / samples.length) * 4);
    },
    stop() { context.close().catch(() => {}); },
  };
}
