# Posts a tar file (argv[2]) to a URL (argv[1]): how a swarm task whose image has python3,
# but neither curl nor wget, sends to the run's workspace service (st_put).
import os, sys, urllib.request
request = urllib.request.Request(
    sys.argv[1],
    data=open(sys.argv[2], "rb"),
    headers={"Content-Length": str(os.path.getsize(sys.argv[2])), "Content-Type": "application/x-tar"},
)
urllib.request.urlopen(request, timeout=600).read()
