"""Response examples copied from the providers' published API docs (trimmed to one or two
buttons). The tests compare the emulator's field sets with these."""

# Seed 000 (OhMyGPT query-mj-tasks; the same task object as /query).
OHMYGPT_TASK = {
    "taskId": 20,
    "taskType": "NORMAL",
    "status": "SUCCESS",
    "action": "IMAGINE",
    "progress": "100%",
    "description": "/imagine chibi manga legend of vader anime vh1 --ar 73:88 --s 750 --niji 5",
    "prompt": "chibi manga legend of vader anime vh1 --ar 73:88 --s 750 --niji 5",
    "failReason": None,
    "submitTime": "2023-08-31T13:59:14.000Z",
    "startTime": "2023-08-31T13:59:14.000Z",
    "finishTime": "2023-08-31T13:59:50.000Z",
    "webhookUrl": "https://webhook.site/9adf49d8-14c3-4270-b83e-25a9e93bcb40",
    "imageDcUrl": "https://cdn.discordapp.com/attachments/1136958712796430388/1146806560803262575/"
    "gpg4win_45703_chibi_manga_legend_of_vader_anime_vh1_in_the_styl_0b33153d-f3c4-486b-9b4a-2f0f0ae6a355.png",
    "imageS3Url": None,
    "actions": [
        {"customId": "MJ::JOB::upsample::1::0b33153d-f3c4-486b-9b4a-2f0f0ae6a355", "emoji": "", "label": "U1"},
        {"customId": "MJ::JOB::reroll::0::0b33153d-f3c4-486b-9b4a-2f0f0ae6a355::SOLO", "emoji": "🔄", "label": ""},
    ],
}

# Seeds 001/002: submit envelopes.
OHMYGPT_SUBMIT = {"statusCode": 200, "message": "Success", "data": 22}

# Seed 003 (MaxAPI /mj-relax/mj/task/{id}/fetch).
PROXY_TASK = {
    "id": "1710761946823501",
    "action": "IMAGINE",
    "customId": "",
    "botType": "",
    "prompt": "a sunny boy",
    "promptEn": "a sunny boy --relax",
    "description": "submit_success",
    "state": "",
    "submitTime": 1710761946823,
    "startTime": 1710761948586,
    "finishTime": 1710762009881,
    "imageUrl": "https://www.doublegpt.io/mj/image/1710761946823501",
    "status": "SUCCESS",
    "progress": "100%",
    "failReason": "",
    "buttons": [
        {
            "customId": "MJ::JOB::upsample::1::67205abe-ad76-4055-b496-b958970f92f2",
            "emoji": "",
            "label": "U1",
            "type": 2,
            "style": 2,
        },
    ],
    "maskBase64": "",
    "properties": {"finalPrompt": "a sunny boy --relax --s 250 --style raw", "finalZhPrompt": ""},
}

# The seeds' grid button order (000 and 003 agree).
GRID_LABELS = ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
